package io.microkernel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.runtime.OrtRuntime;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The top of the command line: what serves, what answers without serving, and what is an error. */
class CliTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final List<String[]> serverStarts = new ArrayList<>();

    private Cli.Result run(String... args) {
        return Cli.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), serverStarts::add);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void noArgumentsServes() {
        Cli.Result result = run();
        assertThat(result.served()).isTrue();
        assertThat(serverStarts).hasSize(1);
        assertThat(serverStarts.get(0)).isEmpty();
        assertThat(out()).isEmpty();
        assertThat(err()).isEmpty();
    }

    @Test
    void serveServesAndPassesConfigurationOn() {
        String key = "microkernel.cli-test." + System.nanoTime();
        Cli.Result result = run("serve", "-D" + key + "=42", "--quarkus-arg");
        assertThat(result.served()).isTrue();
        assertThat(serverStarts).hasSize(1);
        assertThat(serverStarts.get(0)).containsExactly("-D" + key + "=42", "--quarkus-arg");
        assertThat(System.getProperty(key)).isEqualTo("42");
        System.clearProperty(key);
    }

    @Test
    void helpPrintsUsageAndDoesNotServe() {
        Cli.Result result = run("--help");
        assertThat(result.exitCode()).isZero();
        assertThat(result.served()).isFalse();
        assertThat(serverStarts).isEmpty();
        assertThat(out()).startsWith("Usage: onnx-microkernel [-hV] [COMMAND]")
                .contains("serve", "artifacts", "--version", "Exit codes: 0 done, 1 the work failed, 2 wrong command line.");
        assertThat(err()).isEmpty();
    }

    @Test
    void serveHelpDoesNotServe() {
        assertThat(run("serve", "--help").exitCode()).isZero();
        assertThat(serverStarts).isEmpty();
        assertThat(out()).startsWith("Usage: onnx-microkernel serve").contains("-Dquarkus.http.port");
    }

    @Test
    void versionNamesTheApplicationTheJavaApiAndTheNativeLibrary() {
        Cli.Result result = run("--version");
        assertThat(result.exitCode()).isZero();
        assertThat(serverStarts).isEmpty();
        String nativeVersion = OrtRuntime.start(Optional.empty()).environment().getVersion();
        assertThat(out().lines().toList()).hasSize(3).satisfies(lines -> {
            assertThat(lines.get(0)).matches("onnx-microkernel \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
            assertThat(lines.get(1)).isEqualTo("ONNX Runtime Java API " + OrtRuntime.expectedVersion());
            assertThat(lines.get(2)).startsWith("ONNX Runtime native " + nativeVersion + " (");
        });
        assertThat(OrtRuntime.expectedVersion()).matches("\\d+\\.\\d+\\.\\d+");
    }

    @Test
    void unknownOptionIsUsageErrorWithUsageOnErr() {
        Cli.Result result = run("--bogus");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.served()).isFalse();
        assertThat(serverStarts).isEmpty();
        assertThat(err()).startsWith("onnx-microkernel: Unknown option: '--bogus'")
                .contains("Usage: onnx-microkernel [-hV] [COMMAND]");
        assertThat(out()).isEmpty();
    }

    @Test
    void unknownCommandIsUsageErrorWithUsageOnErr() {
        Cli.Result result = run("frobnicate");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(serverStarts).isEmpty();
        assertThat(err()).contains("Unmatched argument at index 0: 'frobnicate'")
                .contains("Usage: onnx-microkernel [-hV] [COMMAND]");
    }

    @Test
    void failedWorkIsOneLineAndExitCodeOne() {
        Cli.Result result = run("artifacts", "inspect", "/nonexistent/artifact-set");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(err()).startsWith("error: ").endsWith("\n").hasLineCount(1).contains("/nonexistent/artifact-set");
    }
}
