package dev.sluice.admission;

import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * Shares of a pool's server connections between keys (a user or an application_name, as the
 * caller chooses): a guaranteed minimum and, while other keys wait, a maximum.
 *
 * <p>Contract of {@link #mayTake}, asked when a waiter of {@code key} could take a free server
 * connection, in this order:
 * <ol>
 * <li>No connection free ({@code totalInUse >= connections}): {@link Verdict#NO_FREE_CONNECTION}.</li>
 * <li>The key holds fewer than its minimum: {@link Verdict#ALLOW_GUARANTEED}.</li>
 * <li>No other key that could take a connection waits (keys at their own maximum do not
 *     count): {@link Verdict#ALLOW} (the maximum only binds while others wait, so an idle pool
 *     is never held back, and two capped keys never hold each other back).</li>
 * <li>The key holds its maximum or more: {@link Verdict#AT_MAX_SHARE}.</li>
 * <li>The free connections are needed to bring waiting other keys up to their minimums:
 *     {@link Verdict#RESERVED_FOR_OTHERS}.</li>
 * <li>Otherwise {@link Verdict#ALLOW}.</li>
 * </ol>
 * Minimums whose sum exceeds the connections cannot all be met; each is then honoured first come.
 * Immutable and thread-safe; the counts are the caller's, read under its own lock.
 */
public final class FairShare {

    /**
     * @param min connections a key is guaranteed (0..max)
     * @param max connections a key may hold while other keys wait (clamped to the pool size)
     */
    public record Share(int min, int max) {
        public Share {
            if (min < 0 || max < min) {
                throw new IllegalArgumentException("share min " + min + ", max " + max
                        + " (expected: 0 <= min <= max)");
            }
        }
    }

    /**
     * A share rule from the configuration: clients whose {@code attribute} ({@code user} or
     * {@code application_name}) equals {@code value} share one key with the given share.
     * Text form: {@code ATTRIBUTE=VALUE:MIN:MAX}, e.g. {@code application_name=reports:0:4}.
     */
    public record Rule(String attribute, String value, Share share) {
        public Rule {
            if (!attribute.equals("user") && !attribute.equals("application_name")) {
                throw new IllegalArgumentException("share rule attribute '" + attribute
                        + "' is not allowed (expected user or application_name)");
            }
        }

        /** The key of the clients this rule covers. */
        public String key() {
            return attribute + "=" + value;
        }

        /** Parses {@code ATTRIBUTE=VALUE:MIN:MAX}. */
        public static Rule parse(String text) {
            int eq = text.indexOf('=');
            int c2 = text.lastIndexOf(':');
            int c1 = c2 < 0 ? -1 : text.lastIndexOf(':', c2 - 1);
            if (eq <= 0 || c1 <= eq) {
                throw new IllegalArgumentException("'" + text
                        + "' is not a share rule (expected ATTRIBUTE=VALUE:MIN:MAX, e.g. application_name=reports:0:4)");
            }
            int min;
            int max;
            try {
                min = Integer.parseInt(text.substring(c1 + 1, c2).strip());
                max = Integer.parseInt(text.substring(c2 + 1).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "': MIN and MAX must be whole numbers");
            }
            return new Rule(text.substring(0, eq).strip(), text.substring(eq + 1, c1).strip(), new Share(min, max));
        }
    }

    /** The answer of {@link #mayTake}; see the class contract. */
    public enum Verdict {
        ALLOW, ALLOW_GUARANTEED, NO_FREE_CONNECTION, AT_MAX_SHARE, RESERVED_FOR_OTHERS;

        public boolean allowed() {
            return this == ALLOW || this == ALLOW_GUARANTEED;
        }
    }

    private final int connections;
    private final Map<String, Share> shares;
    private final Share defaultShare;

    /**
     * @param connections  server connections shared (the pool size)
     * @param shares       shares of named keys
     * @param defaultShare share of any other key
     */
    public FairShare(int connections, Map<String, Share> shares, Share defaultShare) {
        if (connections < 1) {
            throw new IllegalArgumentException("connections: " + connections + " (expected: >= 1)");
        }
        this.connections = connections;
        this.shares = Map.copyOf(shares);
        this.defaultShare = Objects.requireNonNull(defaultShare);
    }

    /** No guarantee and no cap: every key may take whatever is free. */
    public static FairShare unlimited(int connections) {
        return new FairShare(connections, Map.of(), new Share(0, connections));
    }

    /** The share that applies to {@code key}. */
    public Share share(String key) {
        return shares.getOrDefault(key, defaultShare);
    }

    /**
     * Whether a waiter of {@code key} may take a free server connection now.
     *
     * @param key         the waiter's key
     * @param inUse       connections each key holds now
     * @param totalInUse  connections held by all keys
     * @param waitingKeys keys with waiters, {@code key} itself may be among them
     */
    public Verdict mayTake(String key, ToIntFunction<String> inUse, int totalInUse, Collection<String> waitingKeys) {
        return mayTake(key, inUse, totalInUse, waitingKeys, connections);
    }

    /**
     * As {@link #mayTake(String, ToIntFunction, int, Collection)} with {@code connections} shared
     * now instead of the constructor's (an adaptive limit moves).
     */
    public Verdict mayTake(String key, ToIntFunction<String> inUse, int totalInUse, Collection<String> waitingKeys,
                           int connections) {
        int free = connections - totalInUse;
        if (free <= 0) {
            return Verdict.NO_FREE_CONNECTION;
        }
        int held = inUse.applyAsInt(key);
        Share mine = share(key);
        if (held < mine.min()) {
            return Verdict.ALLOW_GUARANTEED;
        }
        int reserved = 0;
        boolean othersWait = false;
        for (String other : waitingKeys) {
            if (other.equals(key)) {
                continue;
            }
            int otherHeld = inUse.applyAsInt(other);
            Share theirs = share(other);
            if (otherHeld < Math.min(theirs.max(), connections)) {
                othersWait = true; // a key held back by its own maximum cannot use what this one leaves
            }
            reserved += Math.max(0, theirs.min() - otherHeld);
        }
        if (!othersWait) {
            return Verdict.ALLOW;
        }
        if (held >= Math.min(mine.max(), connections)) {
            return Verdict.AT_MAX_SHARE;
        }
        if (free <= reserved) {
            return Verdict.RESERVED_FOR_OTHERS;
        }
        return Verdict.ALLOW;
    }

    public int connections() {
        return connections;
    }
}
