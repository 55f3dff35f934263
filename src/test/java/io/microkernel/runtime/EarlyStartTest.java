package io.microkernel.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EarlyStartTest {

    @TempDir
    Path dir;

    private static Properties properties(String... keyValues) {
        Properties properties = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            properties.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return properties;
    }

    @Test
    void startsEarlyWhenNoSourceCanNameAnotherLibrary() throws IOException {
        Files.createDirectories(dir.resolve("config"));
        Files.writeString(dir.resolve("config").resolve("application.properties"), "microkernel.model.name=shapes\n");
        Files.writeString(dir.resolve(".env"), "QUARKUS_HTTP_PORT=8085\n");

        assertThat(EarlyStart.allowed(Map.of("PATH", "/usr/bin", "MICROKERNEL_DATA_DIR", "/data"),
                properties("java.home", "/jdk", "microkernel.runtime.library-check", "x"), dir)).isTrue();
    }

    @Test
    void aSystemPropertyOrEnvironmentVariableNamingTheLibraryStopsIt() {
        assertThat(EarlyStart.allowed(Map.of(), properties("microkernel.runtime.native-library", "/opt/ort.so"), dir)).isFalse();
        assertThat(EarlyStart.allowed(Map.of(), properties("%edge.microkernel.runtime.native-library", "/opt/ort.so"), dir))
                .isFalse();
        assertThat(EarlyStart.allowed(Map.of("MICROKERNEL_RUNTIME_NATIVE_LIBRARY", "/opt/ort.so"), properties(), dir)).isFalse();
        assertThat(EarlyStart.allowed(Map.of("_EDGE_MICROKERNEL_RUNTIME_NATIVE_LIBRARY", "/opt/ort.so"), properties(), dir))
                .isFalse();
    }

    @Test
    void configurationMovedElsewhereStopsIt() {
        assertThat(EarlyStart.allowed(Map.of("QUARKUS_CONFIG_LOCATIONS", "/etc/app.properties"), properties(), dir)).isFalse();
        assertThat(EarlyStart.allowed(Map.of(), properties("smallrye.config.locations", "/etc/app.properties"), dir)).isFalse();
    }

    @Test
    void aConfigFileOrDotEnvNamingTheLibraryStopsIt() throws IOException {
        Path config = Files.createDirectories(dir.resolve("config")).resolve("application.properties");
        Files.writeString(config, "%prod.microkernel.runtime.native-library=/opt/ort.so\n");
        assertThat(EarlyStart.allowed(Map.of(), properties(), dir)).isFalse();

        Files.delete(config);
        Files.writeString(dir.resolve(".env"), "MICROKERNEL_RUNTIME_NATIVE_LIBRARY=/opt/ort.so\n");
        assertThat(EarlyStart.allowed(Map.of(), properties(), dir)).isFalse();
    }
}
