package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TensorBatchTest {

    private static Sample sample(long id, float a, float b, int label) {
        return new Sample(id, 0, Map.of("x", Tensor.ofFloats(new long[] {2}, a, b)), new SampleLabel.ClassIndex(label));
    }

    @Test
    void stacksSamplesIntoOneDirectBufferPerInputInCallOrder() throws OrtException {
        TensorSpec label = new TensorSpec("target", DType.INT64, List.of(-1L, 1L));
        List<Sample> samples = List.of(sample(1, 1, 2, 0), sample(2, 3, 4, 2));

        try (TensorBatch batch = TensorBatch.of(OrtRuntime.bundled().environment(), List.of("target", "x"), label, samples)) {
            assertThat(batch.inputs().keySet()).containsExactly("target", "x");
            OnnxTensor x = batch.inputs().get("x");
            assertThat(x.getInfo().getShape()).containsExactly(2, 2);
            assertThat(x.ownsBuffer()).as("ORT reads the stacked direct buffer, no copy of its own").isFalse();
            assertThat(Tensor.copyOf(x)).isEqualTo(Tensor.ofFloats(new long[] {2, 2}, 1, 2, 3, 4));
            OnnxTensor target = batch.inputs().get("target");
            assertThat(Tensor.copyOf(target)).isEqualTo(Tensor.ofLongs(new long[] {2, 1}, 0, 2));
        }
    }

    @Test
    void refusesSamplesThatDoNotStack() {
        Sample odd = new Sample(3, 0, Map.of("x", Tensor.ofFloats(new long[] {3}, 1, 2, 3)), new SampleLabel.ClassIndex(0));

        assertThatThrownBy(() -> TensorBatch.of(OrtRuntime.bundled().environment(), List.of("x"), null,
                        List.of(sample(1, 1, 2, 0), odd)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("sample 3 input 'x': expected FP32[2] like the rest of the batch, found FP32[3]");
    }
}
