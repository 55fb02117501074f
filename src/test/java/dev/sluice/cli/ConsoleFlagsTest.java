package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.UserConfig;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The console's command-line flags, and the demo user as console admin. */
class ConsoleFlagsTest {

    @Test
    void adminAndStatsUsersFlags_mapOntoTheirKeys() throws Exception {
        RunCommand run = new RunCommand(Map.of());
        new CommandLine(run).parseArgs("--admin-users", "a,b", "--stats-users", "grafana");
        assertThat(run.flags()).containsEntry("admin_users", "a,b").containsEntry("stats_users", "grafana");
        SluiceConfig c = ConfigLoader.load(Optional.empty(), Map.of(), run.flags(), w -> { });
        assertThat(c.console().adminUsers()).containsExactly("a", "b");
        assertThat(c.console().statsUsers()).containsExactly("grafana");
    }

    @Test
    void withDemo_makesTheDemoUserAnAdmin_andKeepsTheOtherSettings() throws Exception {
        SluiceConfig loaded = ConfigLoader.load(Optional.empty(), Map.of(), Map.of("admin_users", "ops",
                "stats_users", "grafana", "admission.rate_limit", "5"), w -> { });
        UserConfig user = new UserConfig("user", "password");
        DatabaseConfig demo = new DatabaseConfig("demo", "127.0.0.1", 5432, "demo", Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty());
        SluiceConfig c = Instance.withDemo(loaded, demo, user);
        assertThat(c.console().adminUsers()).containsExactly("ops", "user");
        assertThat(c.console().statsUsers()).containsExactly("grafana");
        assertThat(c.users()).contains(user);
        assertThat(c.databases()).containsExactly(demo);
        assertThat(c.admission()).isEqualTo(loaded.admission());
        assertThat(Instance.withDemo(c, demo, user).console().adminUsers()).containsExactly("ops", "user");
    }
}
