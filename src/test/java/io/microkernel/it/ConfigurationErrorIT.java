package io.microkernel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A setting out of range stops the packaged application at start-up: exit status 1 and one log
 * line naming the property, what was expected and what was found; nothing else is started.
 */
class ConfigurationErrorIT {

    @TempDir
    Path temp;

    @Test
    void aMaxBatchOfZeroStopsStartUpWithOneLineNamingIt() throws Exception {
        String output = startAndWaitForExit("max-batch", "-Dmicrokernel.serving.max-batch=0");
        List<String> errors = output.lines().filter(l -> l.contains("ERROR")).toList();
        assertThat(errors).as(output).singleElement().asString()
                .contains("invalid configuration: microkernel.serving.max-batch: expected at least 1, found 0");
        assertThat(output).doesNotContain("ONNX Runtime").doesNotContain("Exception");
        assertThat(temp.resolve("data")).doesNotExist();
    }

    /** The runtime, taken from its CDI producer at start-up, fails with cause and remedy in one line. */
    @Test
    void aMissingNativeLibraryStopsStartUpWithOneLineNamingItsRemedy() throws Exception {
        Path missing = temp.resolve("no-such-libonnxruntime.so");
        String output = startAndWaitForExit("native-library", "-Dmicrokernel.runtime.native-library=" + missing);
        List<String> errors = output.lines().filter(l -> l.contains("ERROR")).toList();
        assertThat(errors).as(output).singleElement().asString()
                .contains("cannot start ONNX Runtime").contains(missing.getFileName().toString()).contains("remedy");
        assertThat(output).doesNotContain("Exception");
    }

    /** Fleet mode's role is one of two words; anything else stops start-up before NATS is asked. */
    @Test
    void anUnknownFleetRoleStopsStartUpWithOneLineNamingIt() throws Exception {
        String output = startAndWaitForExit("fleet-role", "-Dmicrokernel.fleet.nats-url=nats://127.0.0.1:1",
                "-Dmicrokernel.fleet.role=trainer");
        List<String> errors = output.lines().filter(l -> l.contains("ERROR")).toList();
        assertThat(errors).as(output).isNotEmpty().allSatisfy(line -> assertThat(line).contains(
                "microkernel.fleet.role: expected trainer-eligible or serve-only, found 'trainer'"));
    }

    /** Starts the packaged application with {@code settings}, waits for it to exit 1 and returns its log. */
    private String startAndWaitForExit(String name, String... settings) throws Exception {
        assertThat(PackagedApp.RUNNER).as("the packaged application; run 'mvn package' first").isRegularFile();
        Path log = Files.createDirectories(Path.of("target", "configuration-error-it")).resolve(name + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java, "-Xmx256m", "-Dquarkus.http.port=0",
                PackagedApp.GRPC_ANY_PORT, "-Dmicrokernel.data-dir=" + temp.resolve("data")));
        command.addAll(List.of(settings));
        command.addAll(List.of("-jar", PackagedApp.RUNNER.toAbsolutePath().toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(process.waitFor(2, TimeUnit.MINUTES)).as("the application exits by itself; see " + log).isTrue();
            String output = Files.readString(log);
            assertThat(process.exitValue()).as(output).isEqualTo(1);
            return output;
        } finally {
            process.destroyForcibly().waitFor();
        }
    }
}
