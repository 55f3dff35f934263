package io.microkernel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code selfcheck}: every step on the shipped model, and a failing step's exit code and message. */
class SelfCheckCommandTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @TempDir
    Path dir;

    private Cli.Result run(String... args) {
        return Cli.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), a -> {
                    throw new AssertionError("selfcheck must not serve");
                });
    }

    @Test
    void theDefaultModelTrainsExportsAndInfersAndTheVersionsArePrinted() {
        Cli.Result result = run("selfcheck");

        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(result.exitCode()).isZero();
        assertThat(result.served()).isFalse();
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines.get(0)).matches("onnx-microkernel \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
        assertThat(lines.get(1)).startsWith("java " + System.getProperty("java.version"))
                .endsWith(" on " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        assertThat(lines.get(2)).matches("ONNX Runtime Java API 1\\.24\\.1, native 1\\.24\\.1, training enabled, providers \\[.*CPU.*\\]");
        assertThat(lines.get(3)).startsWith("native library ").contains("libonnxruntime.so.1");
        assertThat(lines.get(4)).isEqualTo("artifact set models/default: 1 input(s), loss cross_entropy, inference output 'probabilities'");
        assertThat(lines.get(5)).matches("train step: loss \\d+\\.\\d{4}, optimizer step done");
        assertThat(lines.get(6)).matches("export: inference\\.onnx, \\d+ bytes");
        assertThat(lines.get(7)).startsWith("inference: output 'probabilities' ").contains("shape=[2, 6]")
                .endsWith(", 12 finite values");
        assertThat(lines.get(8)).matches("selfcheck passed in \\d+ ms");
        assertThat(lines).hasSize(9);
    }

    @Test
    void aSetThatCannotBeOpenedFailsWithExitCodeOneAndOneErrorLine() throws Exception {
        Path broken = Files.createDirectories(dir.resolve("broken"));
        Files.writeString(broken.resolve("training_model.onnx"), "not a model");

        Cli.Result result = run("selfcheck", broken.toString());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8).lines().toList()).singleElement()
                .satisfies(line -> assertThat(line).startsWith("error: ").contains(broken.toString()));
    }

    @Test
    void helpNamesTheSteps() {
        assertThat(run("selfcheck", "--help").exitCode()).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("Usage: onnx-microkernel selfcheck [-hV] [DIR]")
                .contains("trains one step", "default: models/default");
    }
}
