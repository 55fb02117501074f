package dev.sluice.config;

import java.util.List;

/**
 * The outcome of a configuration reload.
 *
 * @param ok          whether the new configuration was valid and applied
 * @param applied     keys whose new values took effect
 * @param needRestart keys that changed but take effect only after a restart
 * @param error       why the reload was refused (the loader's one-line message), null when ok
 */
public record ReloadReport(boolean ok, List<String> applied, List<String> needRestart, String error) {
    public ReloadReport {
        applied = List.copyOf(applied);
        needRestart = List.copyOf(needRestart);
    }
}
