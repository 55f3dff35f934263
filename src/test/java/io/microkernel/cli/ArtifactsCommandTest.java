package io.microkernel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.LossKind;
import io.microkernel.testing.TinyModels;
import io.microkernel.artifacts.Onnx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactsCommandTest {

    @TempDir
    Path tmp;

    private Path model;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void writeModel() {
        model = tmp.resolve("classifier.onnx");
        Onnx.write(TinyModels.classifier(4), model);
    }

    /** Runs {@code artifacts ARGS...} as the application's command line does. */
    private int run(String... args) {
        String[] line = new String[args.length + 1];
        line[0] = "artifacts";
        System.arraycopy(args, 0, line, 1, args.length);
        Cli.Result result = Cli.execute(line, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), serverArgs -> {
                    throw new AssertionError("an artifacts command must not start the server");
                });
        assertThat(result.served()).isFalse();
        return result.exitCode();
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void buildThenInspectPrintsTheDescription() {
        Path set = tmp.resolve("set");
        int built = run("build", "--model", model.toString(), "--out", set.toString(),
                "--trainable-pattern", "head\\..*", "--classes", "cat,dog,owl", "--lr-hint", "0.01");

        assertThat(built).as(err()).isZero();
        assertThat(ArtifactSet.open(set).description().classNames()).containsExactly("cat", "dog", "owl");
        out.reset();

        assertThat(run("inspect", set.toString())).as(err()).isZero();
        assertThat(out()).contains(
                "inputs:\n  input FLOAT [-1,4]\n",
                "label: labels INT64 [-1]\n",
                "loss: cross-entropy\n",
                "inference output: probabilities\n",
                "classes: 3 (cat, dog, owl)\n",
                "trainable parameters: 2 tensors, 27 values\n  head.weight [3,8] 24\n  head.bias [3] 3\n",
                "frozen parameters: 3 tensors, 78 values\n  backbone.w1 [4,6] 24\n");
        assertThat(out()).contains("manifest: " + set.toAbsolutePath().resolve("manifest.json"));
        assertThat(err()).as("progress of build goes to err, inspect prints none")
                .startsWith("[1/3] reading " + model + "\n").contains("[3/3] deriving").hasLineCount(3);
    }

    @Test
    void buildsAnMseSetWithNamedParametersAndAdamW() {
        Path regression = tmp.resolve("regression.onnx");
        Onnx.write(new TinyModels.Graph("regression", 2)
                .input("x", Onnx.FLOAT, -1, 3).weight("w", 0.5, 3, 1).weight("b", 0.1, 1)
                .node("Gemm", java.util.List.of("x", "w", "b"), java.util.List.of("y"))
                .output("y", Onnx.FLOAT, -1, 1).build(), regression);
        Path set = tmp.resolve("mse");

        int code = run("build", "--model", regression.toString(), "--out", set.toString(), "--trainable", "w,b",
                "--loss", "mse", "--adamw", "0.9,0.999,1e-8,0.01");

        assertThat(code).as(err()).isZero();
        assertThat(ArtifactSet.open(set).description().loss()).isEqualTo(LossKind.MSE);
        assertThat(out()).contains("loss: mse\n", "label: labels FLOAT [-1,1]\n").doesNotContain("classes:");
        assertThat(Files.exists(set.resolve("manifest.json"))).isFalse();
    }

    @Test
    void brokenSetIsOneLineAndExitCodeOne() throws Exception {
        Path set = tmp.resolve("set");
        assertThat(run("build", "--model", model.toString(), "--out", set.toString(), "--all-trainable")).isZero();
        Files.delete(set.resolve("checkpoint"));
        Files.createDirectory(set.resolve("checkpoint"));

        err.reset();
        assertThat(run("inspect", set.toString())).isEqualTo(1);
        assertThat(err()).isEqualTo("error: " + set.toAbsolutePath().resolve("checkpoint")
                + ": old directory-format checkpoint (written by ONNX Runtime 1.15 or earlier); expected a single FlatBuffers"
                + " file; regenerate the artifacts with ONNX Runtime 1.16 or later\n");
    }

    @Test
    void unsupportedOperatorOnTheTrainablePathFailsTheBuild() {
        Path sine = tmp.resolve("sine.onnx");
        Onnx.write(new TinyModels.Graph("sine", 2)
                .input("x", Onnx.FLOAT, -1, 3).weight("w", 0.5, 3, 2)
                .node(Onnx.node("MatMul", "mm", java.util.List.of("x", "w"), java.util.List.of("h")))
                .node(Onnx.node("Sin", "wave", java.util.List.of("h"), java.util.List.of("y")))
                .output("y", Onnx.FLOAT, -1, 2).build(), sine);

        assertThat(run("build", "--model", sine.toString(), "--out", tmp.resolve("o").toString(), "--all-trainable"))
                .isEqualTo(1);
        String failure = err().lines().filter(line -> !line.startsWith("[")).reduce("", (a, b) -> a + b + "\n");
        assertThat(failure).startsWith("error: " + sine + ": node 'wave': operator Sin is on the trainable path")
                .endsWith("\n").hasLineCount(1);
    }

    @Test
    void usageErrorsExitWithTwoAndNameTheCommandAndWhatIsWrong() {
        assertUsageError(new String[] {}, "artifacts: missing command");
        assertUsageError(new String[] {"frobnicate"}, "Unmatched argument at index 1: 'frobnicate'");
        assertUsageError(new String[] {"inspect"}, "artifacts inspect: Missing required parameter: 'DIR'");
        assertUsageError(new String[] {"build", "--model", model.toString()}, "Missing required option: '--out=DIR'");
        assertUsageError(new String[] {"build", "--model", model.toString(), "--out", "x"},
                "Missing required argument (specify one of these)");
        assertUsageError(new String[] {"build", "--model", model.toString(), "--out", "x", "--all-trainable",
            "--trainable", "w"}, "mutually exclusive");
        assertUsageError(new String[] {"build", "--model", model.toString(), "--out", "x", "--all-trainable",
            "--loss", "hinge"}, "expects cross-entropy or mse, found 'hinge'");
        assertUsageError(new String[] {"build", "--model", model.toString(), "--out", "x", "--all-trainable",
            "--bogus", "1"}, "Unknown options: '--bogus', '1'");
        assertUsageError(new String[] {"build", "--model", model.toString(), "--out", "x", "--all-trainable",
            "--lr-hint", "fast"}, "'fast' is not a double");
        assertUsageError(new String[] {"build", "--model", model.toString(), "--out", "x", "--all-trainable",
            "--model", model.toString()}, "should be specified only once");
        assertUsageError(new String[] {"build", "--model", model.toString(), "--out", "x",
            "--trainable-pattern", "(unclosed"}, "--trainable-pattern is not a regular expression");
        assertUsageError(new String[] {"build", "--model", model.toString(), "--out", "x", "--all-trainable",
            "--adamw", "0.9,0.999"}, "--adamw expects ALPHA,BETA,EPSILON,WEIGHT_DECAY");
        assertThat(Files.exists(Path.of("x"))).isFalse();
    }

    private void assertUsageError(String[] args, String message) {
        out.reset();
        err.reset();
        assertThat(run(args)).as(String.join(" ", args)).isEqualTo(2);
        assertThat(err()).as(String.join(" ", args)).contains(message).contains("Usage: onnx-microkernel artifacts");
        assertThat(out()).isEmpty();
    }

    @Test
    void helpListsTheCommandsAndGoesToOut() {
        assertThat(run("--help")).isZero();
        assertThat(out()).startsWith("Usage: onnx-microkernel artifacts").contains("inspect", "build", "make-default",
                "samples");
        out.reset();
        assertThat(run("help")).as("'artifacts help' still works").isZero();
        assertThat(out()).startsWith("Usage: onnx-microkernel artifacts").contains("make-default");
        out.reset();
        assertThat(run("help", "build")).isZero();
        assertThat(out()).startsWith("Usage: onnx-microkernel artifacts build");
        assertThat(err()).isEmpty();
    }

    @Test
    void everyCommandsHelpListsItsOptions() {
        Map<String, List<String>> options = Map.of(
                "inspect", List.of("DIR"),
                "build", List.of("--model=MODEL.onnx", "--out=DIR", "--trainable=NAME,NAME", "--trainable-pattern=REGEX",
                        "--all-trainable", "--loss=cross-entropy|mse", "--output=NAME", "--classes=A,B,C",
                        "--lr-hint=RATE", "--adamw=ALPHA,BETA,EPSILON,WEIGHT_DECAY", "--description=TEXT"),
                "make-default", List.of("DIR", "--seed=N", "--threads=N"),
                "samples", List.of("--style=source|target", "--count=N", "--seed=N"));
        options.forEach((command, expected) -> {
            out.reset();
            assertThat(run(command, "--help")).as(command).isZero();
            assertThat(out()).as(command).startsWith("Usage: onnx-microkernel artifacts " + command)
                    .contains(expected).contains("--help");
        });
        assertThat(err()).isEmpty();
    }
}
