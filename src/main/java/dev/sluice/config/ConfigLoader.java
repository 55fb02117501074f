package dev.sluice.config;

import dev.sluice.config.RawConfig.Raw;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the {@link SluiceConfig} of a process from four sources, later ones winning:
 * built-in defaults, the YAML file, {@code SLUICE_*} environment variables, command-line flags.
 *
 * <p>Keys are dotted paths of the YAML nesting in snake_case ({@code pool.max_client_conn}). The
 * environment variable of a scalar key is {@code SLUICE_} plus the path upper-cased with dots and
 * dashes as underscores ({@code SLUICE_POOL_MAX_CLIENT_CONN}); an empty variable counts as unset.
 * Lists are set in the file only, except that {@code SLUICE_UPSTREAM} and the {@code upstream}
 * flag add one database (and its user) from a {@code postgresql://USER[:PASSWORD]@HOST[:PORT]/DB}
 * URL.
 *
 * <p>Validation has two grades. An impossible value (unknown key, malformed value, out of range,
 * duplicate name, missing TLS file...) throws a {@link ConfigException} whose message is one line
 * naming the key, the value and what is allowed. A doubtful value is reported as a warning and
 * loading continues, with a safe value substituted where one exists (e.g. {@code pool.min_idle}
 * above {@code pool.size} is clamped). See {@code docs/configuration.md} for every key.
 */
public final class ConfigLoader {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
    private static final Pattern FLAG_USER = Pattern.compile("users\\[(\\d{1,9})]");
    private static final String ENV_PREFIX = "SLUICE_";
    private static final String UPSTREAM_ENV = "SLUICE_UPSTREAM";

    private ConfigLoader() {
    }

    /** The built-in defaults alone: no users, no databases (which means demo mode for {@code sluice run}). */
    public static SluiceConfig defaults() {
        try {
            return load(Optional.empty(), Map.of(), Map.of(), warning -> { });
        } catch (ConfigException e) {
            throw new IllegalStateException("built-in defaults are invalid: " + e.getMessage(), e);
        }
    }

    /**
     * Loads and validates, logging warnings through SLF4J.
     *
     * @see #load(Optional, Map, Map, Consumer)
     */
    public static SluiceConfig load(Optional<Path> yaml, Map<String, String> env, Map<String, String> flags)
            throws ConfigException {
        return load(yaml, env, flags, LOG::warn);
    }

    /**
     * Loads and validates.
     *
     * @param yaml     the YAML file, if any; a missing file is an error
     * @param env      the process environment (only {@code SLUICE_*} entries are read; an unknown one
     *                 is warned about and ignored)
     * @param flags    command-line values by dotted key ({@code "pool.size" -> "30"}), plus
     *                 {@code "upstream"} for an upstream URL and {@code "users[0]"},
     *                 {@code "users[1]"}... for {@code NAME:PASSWORD} users (these replace file users
     *                 of the same name); an unknown key is an error
     * @param warnings receives one line per doubtful value
     * @throws ConfigException on the first impossible value
     */
    public static SluiceConfig load(Optional<Path> yaml, Map<String, String> env, Map<String, String> flags,
            Consumer<String> warnings) throws ConfigException {
        RawConfig raw = RawConfig.withDefaults();
        if (yaml.isPresent()) {
            YamlReader.read(yaml.get(), raw);
        }
        applyEnvironment(env, raw, warnings);
        applyFlags(flags, raw);
        return new ConfigBuilder(raw, warnings).build();
    }

    private static void applyEnvironment(Map<String, String> env, RawConfig raw, Consumer<String> warnings) {
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(ENV_PREFIX) || e.getValue() == null || e.getValue().isEmpty()) {
                continue;
            }
            if (name.equals(UPSTREAM_ENV)) {
                raw.upstream = Optional.of(new Raw(e.getValue(), name));
                continue;
            }
            Optional<Setting> setting = Setting.byEnvName(name);
            if (setting.isPresent()) {
                raw.settings.put(setting.get(), new Raw(e.getValue(), name));
            } else {
                warnings.accept("unknown environment variable " + name + " is ignored" + envHint(name));
            }
        }
    }

    private static String envHint(String name) {
        List<String> known = new ArrayList<>();
        for (Setting s : Setting.values()) {
            known.add(s.envName());
        }
        known.add(UPSTREAM_ENV);
        return Values.closest(name, known).map(k -> " (did you mean " + k + "?)").orElse("");
    }

    private static void applyFlags(Map<String, String> flags, RawConfig raw) throws ConfigException {
        TreeMap<Integer, String> users = new TreeMap<>();
        for (Map.Entry<String, String> e : flags.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            if (value == null) {
                continue;
            }
            Matcher user = FLAG_USER.matcher(key);
            if (key.equals("upstream")) {
                raw.upstream = Optional.of(new Raw(value, "upstream"));
            } else if (user.matches()) {
                users.put(Integer.parseInt(user.group(1)), value);
            } else {
                Setting s = Setting.byPath(key).orElseThrow(() -> YamlReader.unknownKey(key, YamlReader.knownPaths()));
                raw.settings.put(s, new Raw(value, key));
            }
        }
        for (String value : users.values()) {
            raw.flagUsers.add(new Raw(value, "--user"));
        }
    }
}
