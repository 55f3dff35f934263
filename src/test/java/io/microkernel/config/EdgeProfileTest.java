package io.microkernel.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The edge profile: what {@code deploy/edge.jvm-options} turns on, and the {@code %edge} keys it selects. */
class EdgeProfileTest {

    private static SmallRyeConfig config(String profile) throws Exception {
        URL properties = EdgeProfileTest.class.getClassLoader().getResource("application.properties");
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(properties, 250));
        if (profile != null) {
            builder.withProfile(profile);
        }
        return builder.build();
    }

    @Test
    void theEdgeProfileTurnsOrtsArenaAndMemoryPatternsOffAndShrinksThePools() throws Exception {
        SmallRyeConfig raw = config("edge");

        assertThat(raw.getValue("microkernel.memory.cpu-arena", Boolean.class)).isFalse();
        assertThat(raw.getValue("microkernel.memory.memory-pattern", Boolean.class)).isFalse();
        assertThat(raw.getValue("microkernel.serving.max-bytes-in-flight", String.class)).isEqualTo("16M");
        assertThat(raw.getValue("quarkus.vertx.event-loops-pool-size", Integer.class)).isEqualTo(1);
        assertThat(raw.getValue("quarkus.thread-pool.max-threads", Integer.class)).isEqualTo(8);
    }

    @Test
    void withoutTheProfileOrtKeepsItsDefaults() throws Exception {
        SmallRyeConfig plain = config(null);

        // Unset, so MicrokernelConfig.Memory's defaults (true, true) apply.
        assertThat(plain.getOptionalValue("microkernel.memory.cpu-arena", Boolean.class)).isEmpty();
        assertThat(plain.getOptionalValue("microkernel.memory.memory-pattern", Boolean.class)).isEmpty();
        assertThat(MicrokernelConfig.Memory.class.getMethod("cpuArena")
                .getAnnotation(io.smallrye.config.WithDefault.class).value()).isEqualTo("true");
    }

    @Test
    void theEdgeArgumentFileSelectsTheProfileAndBoundsHeapAndDirectMemory() throws Exception {
        List<String> options = Files.readAllLines(Path.of("deploy", "edge.jvm-options"));

        assertThat(options).contains("-Dquarkus.profile=edge", "-XX:+UseSerialGC")
                .anyMatch(o -> o.startsWith("-Xmx")).anyMatch(o -> o.startsWith("-XX:MaxDirectMemorySize="));
        assertThat(options).allMatch(o -> o.startsWith("-") && !o.contains(" "), "one option a line, no spaces");
    }
}
