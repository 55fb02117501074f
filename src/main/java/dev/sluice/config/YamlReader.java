package dev.sluice.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.sluice.config.RawConfig.Entry;
import dev.sluice.config.RawConfig.Raw;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the YAML file into a {@link RawConfig}. Scalars are kept as the text written in the file
 * (so {@code password: 0123} stays {@code 0123}); keys are checked against the known ones here,
 * so a typo is named with its full path.
 */
final class YamlReader {

    static final Set<String> USER_FIELDS = Set.of("name", "password");
    static final Set<String> DATABASE_FIELDS = Set.of(
            "name", "host", "port", "dbname", "user", "password", "pool_mode", "pool_size");
    static final Set<String> WEBHOOK_FIELDS = Set.of("url", "format");
    static final String WEBHOOKS = "alerts.webhooks";

    private static final YAMLFactory FACTORY = YAMLFactory.builder().enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL).build();

    /** The parsed document: mappings keep file order; a null value is {@link Scalar} with null text. */
    sealed interface Node permits Scalar, Mapping, Sequence {
    }

    record Scalar(String text) implements Node {
    }

    record Mapping(Map<String, Node> entries) implements Node {
    }

    record Sequence(List<Node> items) implements Node {
    }

    private YamlReader() {
    }

    static void read(Path file, RawConfig into) throws ConfigException {
        Node root;
        try (InputStream in = Files.newInputStream(file); JsonParser p = FACTORY.createParser(in)) {
            root = p.nextToken() == null ? new Mapping(Map.of()) : readNode(p, "", file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ConfigException(file + ": invalid YAML" + where + ": " + oneLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read (" + oneLine(String.valueOf(e.getMessage())) + ")");
        }
        if (root instanceof Scalar s && s.text() == null) {
            return;
        }
        if (!(root instanceof Mapping top)) {
            throw new ConfigException(file + ": expected a mapping of settings at the top level");
        }
        section(top, "", into);
    }

    private static void section(Mapping mapping, String prefix, RawConfig into) throws ConfigException {
        for (Map.Entry<String, Node> e : mapping.entries().entrySet()) {
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            Node value = e.getValue();
            if (path.equals("users") || path.equals("databases")) {
                List<Entry> target = path.equals("users") ? into.users : into.databases;
                target.clear();
                entries(path, value, path.equals("users") ? USER_FIELDS : DATABASE_FIELDS, target);
            } else if (path.equals(WEBHOOKS)) {
                into.webhooks.clear();
                entries(path, value, WEBHOOK_FIELDS, into.webhooks);
            } else if (Setting.SECTIONS.contains(path)) {
                if (value instanceof Mapping m) {
                    section(m, path, into);
                } else if (!(value instanceof Scalar s && s.text() == null)) {
                    throw new ConfigException(path + ": " + describe(value) + " is not allowed (expected a mapping of "
                            + path + " settings)");
                }
            } else {
                var setting = Setting.byPath(path);
                if (setting.isEmpty()) {
                    throw unknownKey(path, knownPaths());
                }
                if (value instanceof Sequence seq && Setting.LISTS.contains(setting.get())) {
                    into.settings.put(setting.get(), new Raw(joinNames(path, seq), path));
                    continue;
                }
                if (!(value instanceof Scalar s)) {
                    throw new ConfigException(path + ": " + describe(value) + " is not allowed (expected a single value)");
                }
                if (s.text() != null) {
                    into.settings.put(setting.get(), new Raw(s.text(), path));
                }
            }
        }
    }

    /** A YAML list of names as the comma-separated text the other sources use. */
    private static String joinNames(String path, Sequence seq) throws ConfigException {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < seq.items().size(); i++) {
            Node item = seq.items().get(i);
            if (!(item instanceof Scalar s) || s.text() == null || s.text().isBlank() || s.text().indexOf(',') >= 0) {
                throw new ConfigException(path + "[" + i + "]: " + describe(item)
                        + " is not allowed (expected a user name without commas)");
            }
            names.add(s.text().strip());
        }
        return String.join(",", names);
    }

    private static void entries(String list, Node value, Set<String> fields, List<Entry> target)
            throws ConfigException {
        if (value instanceof Scalar s && s.text() == null) {
            return;
        }
        if (!(value instanceof Sequence seq)) {
            throw new ConfigException(list + ": " + describe(value) + " is not allowed (expected a list of entries)");
        }
        for (int i = 0; i < seq.items().size(); i++) {
            String label = list + "[" + i + "]";
            if (!(seq.items().get(i) instanceof Mapping m)) {
                throw new ConfigException(label + ": " + describe(seq.items().get(i))
                        + " is not allowed (expected a mapping with " + String.join(", ", sorted(fields)) + ")");
            }
            Map<String, Raw> values = new LinkedHashMap<>();
            for (Map.Entry<String, Node> f : m.entries().entrySet()) {
                String key = label + "." + f.getKey();
                if (!fields.contains(f.getKey())) {
                    List<String> known = new ArrayList<>();
                    for (String k : fields) {
                        known.add(label + "." + k);
                    }
                    throw unknownKey(key, known);
                }
                if (!(f.getValue() instanceof Scalar s)) {
                    throw new ConfigException(key + ": " + describe(f.getValue()) + " is not allowed (expected a single value)");
                }
                if (s.text() != null) {
                    values.put(f.getKey(), new Raw(s.text(), key));
                }
            }
            target.add(new Entry(label, values));
        }
    }

    private static Node readNode(JsonParser p, String path, Path file) throws IOException, ConfigException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            Map<String, Node> entries = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                String child = path.isEmpty() ? name : path + "." + name;
                p.nextToken();
                Node value = readNode(p, child, file);
                if (entries.putIfAbsent(name, value) != null) {
                    throw new ConfigException(file + ": duplicate key '" + child + "'");
                }
            }
            return new Mapping(entries);
        } else if (t == JsonToken.START_ARRAY) {
            List<Node> items = new ArrayList<>();
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                items.add(readNode(p, path + "[" + i++ + "]", file));
            }
            return new Sequence(items);
        } else if (t == JsonToken.VALUE_NULL) {
            return new Scalar(null);
        }
        return new Scalar(p.getText());
    }

    static ConfigException unknownKey(String key, Iterable<String> known) {
        String hint = Values.closest(key, known).map(k -> " (did you mean '" + k + "'?)").orElse("");
        return new ConfigException("unknown key '" + key + "'" + hint);
    }

    static List<String> knownPaths() {
        List<String> paths = new ArrayList<>();
        for (Setting s : Setting.values()) {
            paths.add(s.path());
        }
        paths.addAll(Setting.SECTIONS);
        paths.add("users");
        paths.add("databases");
        paths.add(WEBHOOKS);
        return paths;
    }

    private static String describe(Node node) {
        return switch (node) {
            case Mapping m -> "a mapping";
            case Sequence s -> "a list";
            case Scalar s -> s.text() == null ? "an empty value" : Values.show(s.text());
        };
    }

    private static List<String> sorted(Set<String> fields) {
        return fields.stream().sorted().toList();
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
