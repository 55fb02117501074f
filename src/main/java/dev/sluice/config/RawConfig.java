package dev.sluice.config;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Configuration text as gathered from the sources, before parsing: each source overwrites what
 * the earlier ones set. Every value keeps the label to name in messages (the dotted key, or the
 * environment variable it came from).
 */
final class RawConfig {

    /** One value in text form and the label that names it in messages. */
    record Raw(String text, String label) {
    }

    /** One list entry ({@code users[0]}, {@code databases[1]}): its fields by key. */
    record Entry(String label, Map<String, Raw> fields) {
        Entry {
            fields = new LinkedHashMap<>(fields);
        }

        Optional<Raw> field(String key) {
            return Optional.ofNullable(fields.get(key));
        }
    }

    final Map<Setting, Raw> settings = new EnumMap<>(Setting.class);
    final List<Entry> users = new ArrayList<>();
    final List<Entry> databases = new ArrayList<>();
    /** {@code alerts.webhooks} entries. */
    final List<Entry> webhooks = new ArrayList<>();
    /** {@code NAME:PASSWORD} values from the command line, in order. */
    final List<Raw> flagUsers = new ArrayList<>();
    Optional<Raw> upstream = Optional.empty();

    static RawConfig withDefaults() {
        RawConfig raw = new RawConfig();
        for (Setting s : Setting.values()) {
            s.defaultText().ifPresent(text -> raw.settings.put(s, new Raw(text, s.path())));
        }
        return raw;
    }

    Optional<Raw> setting(Setting s) {
        return Optional.ofNullable(settings.get(s));
    }
}
