package dev.sluice.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One console command as typed, in PgBouncer's grammar: a verb and its words
 * ({@code SHOW POOLS}, {@code PAUSE app}, {@code KILL_CLIENT 42}), case-insensitive, with an
 * optional trailing semicolon; or {@code SET key = value} ({@code TO} for {@code =}, the value a
 * word or a 'string'). A word is a run of characters other than white space, quotes, {@code =}
 * and {@code ;}, or a "double-quoted" name ({@code ""} inside for a quote).
 *
 * @param verb  the first word, upper case; empty for a query string with no command
 * @param words the words after the verb, as written (quotes removed); for SET, the key and value
 */
record ConsoleCommand(String verb, List<String> words) {

    ConsoleCommand {
        words = List.copyOf(words);
    }

    /** Thrown for text that is not one command; the message says why. */
    static final class SyntaxException extends Exception {
        private static final long serialVersionUID = 1L;

        SyntaxException(String message) {
            super(message);
        }
    }

    boolean isEmpty() {
        return verb.isEmpty();
    }

    /** The word after the verb upper-cased (SHOW's item), or empty. */
    String item() {
        return words.isEmpty() ? "" : words.getFirst().toUpperCase(Locale.ROOT);
    }

    /** The single optional argument of PAUSE, RESUME, KILL...: null when absent. */
    String argument() {
        return words.isEmpty() ? null : words.getFirst();
    }

    private enum Kind { WORD, QUOTED, STRING, EQUALS, SEMICOLON }

    private record Token(Kind kind, String text) {
    }

    static ConsoleCommand parse(String sql) throws SyntaxException {
        List<Token> tokens = tokens(sql);
        while (!tokens.isEmpty() && tokens.getLast().kind() == Kind.SEMICOLON) {
            tokens.removeLast();
        }
        for (Token t : tokens) {
            if (t.kind() == Kind.SEMICOLON) {
                throw new SyntaxException("the console runs one command per query");
            }
        }
        if (tokens.isEmpty()) {
            return new ConsoleCommand("", List.of());
        }
        Token first = tokens.getFirst();
        if (first.kind() != Kind.WORD) {
            throw new SyntaxException("a command starts with a word such as SHOW");
        }
        String verb = first.text().toUpperCase(Locale.ROOT);
        if (verb.equals("SET")) {
            return set(tokens);
        }
        List<String> words = new ArrayList<>();
        for (Token t : tokens.subList(1, tokens.size())) {
            if (t.kind() != Kind.WORD && t.kind() != Kind.QUOTED) {
                throw new SyntaxException("unexpected " + (t.kind() == Kind.EQUALS ? "'='" : "string '" + t.text() + "'"));
            }
            words.add(t.text());
        }
        return new ConsoleCommand(verb, words);
    }

    /** SET key = value, SET key TO value. */
    private static ConsoleCommand set(List<Token> tokens) throws SyntaxException {
        boolean ok = tokens.size() == 4
                && (tokens.get(1).kind() == Kind.WORD || tokens.get(1).kind() == Kind.QUOTED)
                && (tokens.get(2).kind() == Kind.EQUALS
                    || tokens.get(2).kind() == Kind.WORD && tokens.get(2).text().equalsIgnoreCase("TO"))
                && tokens.get(3).kind() != Kind.EQUALS;
        if (!ok) {
            throw new SyntaxException("expected SET key = value");
        }
        return new ConsoleCommand("SET", List.of(tokens.get(1).text(), tokens.get(3).text()));
    }

    private static List<Token> tokens(String s) throws SyntaxException {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == ';') {
                out.add(new Token(Kind.SEMICOLON, ";"));
                i++;
            } else if (c == '=') {
                out.add(new Token(Kind.EQUALS, "="));
                i++;
            } else if (c == '"' || c == '\'') {
                StringBuilder b = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= n) {
                        throw new SyntaxException("unterminated " + (c == '"' ? "quoted name" : "string"));
                    }
                    char d = s.charAt(j);
                    if (d == c) {
                        if (j + 1 < n && s.charAt(j + 1) == c) {
                            b.append(c);
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    b.append(d);
                    j++;
                }
                out.add(new Token(c == '"' ? Kind.QUOTED : Kind.STRING, b.toString()));
                i = j + 1;
            } else {
                int j = i;
                while (j < n && !Character.isWhitespace(s.charAt(j)) && "\"';=".indexOf(s.charAt(j)) < 0) {
                    j++;
                }
                out.add(new Token(Kind.WORD, s.substring(i, j)));
                i = j;
            }
        }
        return out;
    }
}
