package io.microkernel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.demo.DefaultModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code artifacts make-default}: the one slow run of the recipe, through the command line. */
class MakeDefaultCommandTest {

    private static final Path DEFAULT = Path.of("models", "default");

    @TempDir
    Path work;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Cli.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), serverArgs -> {
                    throw new AssertionError("make-default must not start the server");
                }).exitCode();
    }

    @Test
    void rebuildsAnEquivalentSetReportingProgressStepByStep() {
        Path rebuilt = work.resolve("default");
        int code = run("artifacts", "make-default", rebuilt.toString(), "--seed", Long.toString(DefaultModel.DEFAULT_SEED));

        String progress = err.toString(StandardCharsets.UTF_8);
        assertThat(code).as(progress).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("shipped head", "target style");
        List<String> lines = progress.lines().toList();
        assertThat(lines).as("every line is a numbered step; no error").allMatch(line -> line.matches("\\[[1-4]/4\\] .*"));
        assertThat(lines).contains(
                "[1/4] pretraining the backbone: epoch 1/6, mean loss " + lossOf(lines, "[1/4] pretraining the backbone: epoch 1/6"),
                "[3/4] wrote " + rebuilt);
        assertThat(lines).anyMatch(line -> line.startsWith("[1/4] pretraining the backbone: epoch 6/6, mean loss "))
                .anyMatch(line -> line.startsWith("[2/4] fitting the head on the source style: epoch 5/5, mean loss "))
                .anyMatch(line -> line.startsWith("[4/4] measuring"));

        ArtifactDescription made = ArtifactSet.open(rebuilt).description();
        ArtifactDescription shipped = ArtifactSet.open(DEFAULT).description();
        assertThat(made.inputs()).isEqualTo(shipped.inputs());
        assertThat(made.trainable()).isEqualTo(shipped.trainable());
        assertThat(made.frozen()).isEqualTo(shipped.frozen());
        assertThat(made.classNames()).isEqualTo(shipped.classNames());
        assertThat(rebuilt.resolve("reference.jsonl")).hasSameBinaryContentAs(DEFAULT.resolve("reference.jsonl"));
        try (Stream<Path> leftovers = Files.list(work)) {
            assertThat(leftovers.map(p -> p.getFileName().toString())).as("the working folder is removed")
                    .containsExactly("default");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String lossOf(List<String> lines, String prefix) {
        return lines.stream().filter(line -> line.startsWith(prefix + ", mean loss ")).findFirst()
                .map(line -> line.substring(line.lastIndexOf(' ') + 1)).orElse("(missing)");
    }

    @Test
    void wrongCommandLinesAreUsageErrors() {
        assertThat(run("artifacts", "make-default")).isEqualTo(2);
        assertThat(run("artifacts", "make-default", "dir", "--seed")).isEqualTo(2);
        assertThat(run("artifacts", "make-default", "dir", "--threads", "0")).isEqualTo(2);
        assertThat(run("artifacts", "make-default", "dir", "other")).isEqualTo(2);
        String errors = err.toString(StandardCharsets.UTF_8);
        assertThat(errors).contains("Missing required parameter: 'DIR'", "Missing required parameter for option '--seed'",
                "expected --threads >= 1, found 0", "Unmatched argument");
        assertThat(errors.lines().filter(line -> line.startsWith("Usage: onnx-microkernel artifacts make-default")))
                .hasSize(4);
        assertThat(Files.exists(Path.of("dir"))).isFalse();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void theReferenceSetAloneIsAddedToAnExistingSetAsShipped() throws IOException {
        Path set = Files.createDirectories(work.resolve("set"));
        try (Stream<Path> files = Files.list(DEFAULT)) {
            for (Path file : files.filter(f -> !f.getFileName().toString().equals("reference.jsonl")).toList()) {
                Files.copy(file, set.resolve(file.getFileName()));
            }
        }
        String manifest = Files.readString(set.resolve("manifest.json"));
        Files.writeString(set.resolve("manifest.json"), manifest.replace(",\n  \"reference_set\" : \"reference.jsonl\"", ""));

        assertThat(set.resolve("manifest.json")).content().doesNotContain("reference_set");
        assertThat(run("artifacts", "make-default", set.toString(), "--reference-set-only")).isZero();

        assertThat(set.resolve("reference.jsonl")).hasSameBinaryContentAs(DEFAULT.resolve("reference.jsonl"));
        assertThat(set.resolve("manifest.json")).hasSameBinaryContentAs(DEFAULT.resolve("manifest.json"));
        assertThat(set.resolve("checkpoint")).hasSameBinaryContentAs(DEFAULT.resolve("checkpoint"));
    }
}
