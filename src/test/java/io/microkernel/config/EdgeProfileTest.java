package io.microkernel.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The edge profile: what {@code deploy/edge.jvm-options} turns on, the {@code %edge} keys it selects, and
 * the environment {@code deploy/edge.env} adds.
 */
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

        assertThat(options).contains("-Dquarkus.profile=edge", "-XX:+UseSerialGC", "-Xmn4m")
                .anyMatch(o -> o.startsWith("-Xmx")).anyMatch(o -> o.startsWith("-XX:MaxDirectMemorySize="))
                .anyMatch(o -> o.matches("-XX:TrimNativeHeapInterval=[1-9]\\d*"));
        assertThat(options).allMatch(o -> o.startsWith("-") && !o.contains(" "), "one option a line, no spaces");
    }

    @Test
    void theJvmRunningTheTestsAcceptsEveryEdgeOption() throws Exception {
        // An option this JVM does not know makes java exit at once ("Unrecognized VM option").
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "@" + Path.of("deploy", "edge.jvm-options").toAbsolutePath(), "-version")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).doesNotContain("Unrecognized", "Ignoring option");
    }

    @Test
    void theEdgeEnvironmentFileSetsOneMallocArenaAndTheArgumentFileTheImageCopies() throws Exception {
        Properties env = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("deploy", "edge.env"))) {
            env.load(in);
        }
        String dockerfile = Files.readString(Path.of("deploy", "Dockerfile"));

        assertThat(env.getProperty("MALLOC_ARENA_MAX")).isEqualTo("1");
        assertThat(env.getProperty("JDK_JAVA_OPTIONS")).isEqualTo("@/app/edge.jvm-options");
        assertThat(dockerfile).containsPattern("COPY [^\\n]*deploy/edge\\.jvm-options[^\\n]* /app/");
    }
}
