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

    private int run(String... args) {
        return ArtifactsCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
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
        assertThat(err()).isEmpty();
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

        assertThat(run("inspect", set.toString())).isEqualTo(1);
        assertThat(err()).isEqualTo("error: " + set.toAbsolutePath().resolve("checkpoint")
                + ": old directory-format checkpoint (written by ONNX Runtime before 1.15); expected a single FlatBuffers"
                + " file; regenerate the artifacts with ONNX Runtime 1.15 or later\n");
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
        assertThat(err()).startsWith("error: " + sine + ": node 'wave': operator Sin is on the trainable path")
                .endsWith("\n").hasLineCount(1);
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertThat(run()).isEqualTo(2);
        assertThat(run("frobnicate")).isEqualTo(2);
        assertThat(run("inspect")).isEqualTo(2);
        assertThat(run("build", "--model", model.toString())).isEqualTo(2);
        assertThat(run("build", "--model", model.toString(), "--out", "x")).isEqualTo(2);
        assertThat(run("build", "--model", model.toString(), "--out", "x", "--all-trainable", "--trainable", "w"))
                .isEqualTo(2);
        assertThat(run("build", "--model", model.toString(), "--out", "x", "--all-trainable", "--loss", "hinge"))
                .isEqualTo(2);
        assertThat(run("build", "--model", model.toString(), "--out", "x", "--all-trainable", "--bogus", "1"))
                .isEqualTo(2);
        assertThat(run("build", "--model", model.toString(), "--out", "x", "--all-trainable", "--lr-hint", "fast"))
                .isEqualTo(2);
        assertThat(err().lines()).hasSize(9).allSatisfy(line -> assertThat(line).startsWith("artifacts").contains("usage:"));
        assertThat(err()).contains("unknown command 'frobnicate'", "missing --out",
                "choose the trainable parameters with --trainable, --trainable-pattern or --all-trainable",
                "--trainable, --trainable-pattern and --all-trainable exclude each other",
                "--loss expects cross-entropy or mse, found 'hinge'", "unknown option '--bogus'",
                "--lr-hint expects a number, found 'fast'");
        assertThat(Files.exists(Path.of("x"))).isFalse();
    }

    @Test
    void helpGoesToOut() {
        assertThat(run("--help")).isZero();
        assertThat(out()).startsWith("usage: artifacts inspect|build|make-default");
    }

    @Test
    void makeDefaultIsASlotForItsOwnClass() {
        int code = run("make-default");
        boolean present;
        try {
            Class.forName(ArtifactsCommand.MAKE_DEFAULT_CLASS);
            present = true;
        } catch (ClassNotFoundException e) {
            present = false;
        }
        if (!present) {
            assertThat(code).isEqualTo(2);
            assertThat(err()).isEqualTo("artifacts make-default: not available in this build\n");
        } else {
            assertThat(err()).doesNotContain("not available in this build");
        }
    }
}
