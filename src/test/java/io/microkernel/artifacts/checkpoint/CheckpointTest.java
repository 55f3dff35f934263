package io.microkernel.artifacts.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microkernel.artifacts.ArtifactException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    @TempDir
    Path tmp;

    private static Checkpoint full() {
        CheckpointTensor w = CheckpointTensor.ofFloats("head.weight", new long[] {2, 3}, new float[] {1, -2, 3.5f, 0, 1e-7f, -0f});
        CheckpointTensor b = CheckpointTensor.ofFloats("head.bias", new long[] {2}, new float[] {0.25f, -0.75f});
        CheckpointTensor frozen = CheckpointTensor.ofFloats("backbone.w", new long[] {3, 1}, new float[] {7, 8, 9});
        CheckpointTensor scalar = CheckpointTensor.ofFloats("scale", new long[] {}, new float[] {2});
        Checkpoint.OptimizerGroup group = new Checkpoint.OptimizerGroup("group0", 42, 0.001f, List.of(
                new Checkpoint.ParameterState("head.bias", List.of(
                        CheckpointTensor.ofFloats("momentum0", new long[] {2}, new float[] {0.1f, 0.2f}),
                        CheckpointTensor.ofFloats("momentum1", new long[] {2}, new float[] {0.3f, 0.4f}))),
                new Checkpoint.ParameterState("head.weight", List.of(
                        CheckpointTensor.ofFloats("momentum0", new long[] {2, 3}, new float[6]),
                        CheckpointTensor.ofFloats("momentum1", new long[] {2, 3}, new float[] {1, 1, 1, 1, 1, 1})))));
        Checkpoint.Properties properties = new Checkpoint.Properties(Map.of("epoch", 3L), Map.of("best_loss", 0.5f),
                Map.of("round", "r-17"));
        return new Checkpoint(Checkpoint.CURRENT_VERSION, List.of(w, b), List.of(frozen, scalar), false, false,
                List.of(group), properties);
    }

    @Test
    void roundTripKeepsEveryField() {
        Checkpoint original = full();
        Path file = tmp.resolve("checkpoint");
        original.write(file);

        Checkpoint read = Checkpoint.read(file);

        assertThat(read.version()).isEqualTo(2);
        assertThat(read.trainable()).isEqualTo(original.trainable());
        assertThat(read.frozen()).isEqualTo(original.frozen());
        assertThat(read.nominalState()).isFalse();
        assertThat(read.externalData()).isFalse();
        assertThat(read.optimizerGroups()).isEqualTo(original.optimizerGroups());
        assertThat(read.properties()).isEqualTo(original.properties());
        assertThat(read.parameter("head.weight").orElseThrow().floats()).containsExactly(1, -2, 3.5f, 0, 1e-7f, -0f);
        assertThat(read.parameter("scale").orElseThrow().dims()).isEmpty();
        assertThat(read.parameter("missing")).isEmpty();
    }

    @Test
    void freshCheckpointHoldsParametersOnly() {
        Checkpoint fresh = Checkpoint.ofParameters(full().trainable(), full().frozen());

        Checkpoint read = Checkpoint.parse(Path.of("mem"), fresh.toBytes());

        assertThat(read.optimizerGroups()).isEmpty();
        assertThat(read.properties()).isEqualTo(Checkpoint.Properties.EMPTY);
        assertThat(read.trainable()).extracting(CheckpointTensor::name).containsExactly("head.weight", "head.bias");
        assertThat(read.frozen()).extracting(CheckpointTensor::name).containsExactly("backbone.w", "scale");
    }

    @Test
    void fileCarriesTheCheckpointIdentifier() {
        byte[] bytes = full().toBytes();

        assertThat(new String(Arrays.copyOfRange(bytes, 4, 8), StandardCharsets.ISO_8859_1)).isEqualTo("ODTC");
    }

    @Test
    void withParametersReplacesValuesAndKeepsOptimizerState() {
        Checkpoint c = full();
        CheckpointTensor bias = c.parameter("head.bias").orElseThrow().withData(new float[] {5, 6});

        Checkpoint changed = Checkpoint.parse(Path.of("mem"), c.withParameters(Map.of("head.bias", bias)).toBytes());

        assertThat(changed.parameter("head.bias").orElseThrow().floats()).containsExactly(5, 6);
        assertThat(changed.parameter("head.weight")).isEqualTo(c.parameter("head.weight"));
        assertThat(changed.optimizerGroups()).isEqualTo(c.optimizerGroups());
    }

    @Test
    void directoryIsReportedAsTheOldFormat() throws Exception {
        Path old = tmp.resolve("checkpoint");
        Files.createDirectory(old);
        Files.write(old.resolve("paramtrain_tensors.pbseq"), new byte[8]);

        assertThatThrownBy(() -> Checkpoint.read(old)).isInstanceOf(ArtifactException.class)
                .hasMessage(old + ": old directory-format checkpoint (written by ONNX Runtime 1.15 or earlier); expected a "
                        + "single FlatBuffers file; regenerate the artifacts with ONNX Runtime 1.16 or later");
    }

    @Test
    void missingAndForeignFilesAreNamed() throws Exception {
        Path missing = tmp.resolve("none");
        assertThatThrownBy(() -> Checkpoint.read(missing)).hasMessage(missing + ": missing checkpoint file");

        Path tiny = tmp.resolve("tiny");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> Checkpoint.read(tiny)).hasMessage(tiny
                + ": not an ONNX Runtime training checkpoint: expected FlatBuffers file identifier 'ODTC', found 3 bytes");
    }

    @Test
    void truncatedCheckpointIsCorrupt() throws Exception {
        byte[] bytes = full().toBytes();
        Path cut = tmp.resolve("cut");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 3));

        assertThatThrownBy(() -> Checkpoint.read(cut)).isInstanceOf(ArtifactException.class)
                .hasMessageStartingWith(cut + ": corrupt checkpoint");
    }

    @Test
    void floatsMustMatchTheShape() {
        assertThatThrownBy(() -> CheckpointTensor.ofFloats("w", new long[] {2, 2}, new float[3]))
                .hasMessage("tensor 'w' of shape [2, 2] needs 4 values, found 3");
    }
}
