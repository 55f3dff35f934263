package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.Tensor;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The OIP request reader: data goes straight into tensors, and its problems wait for the model's checks. */
class InferInputReaderTest {

    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    private static Oip.InferInput input(String json) throws IOException {
        return JSON.readValue("{\"id\":\"r1\",\"inputs\":[" + json + "]}", Oip.InferRequest.class).inputs().get(0);
    }

    @Test
    void readsDataInEitherFieldOrder() throws IOException {
        Oip.InferInput usual = input("{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[[1.5,2]]}");
        Oip.InferInput dataFirst = input("{\"data\":[1.5,2],\"datatype\":\"FP32\",\"name\":\"x\",\"shape\":[1,2]}");

        Tensor expected = Tensor.ofFloats(new long[] {1, 2}, 1.5f, 2f);
        assertThat(usual.data().read(DType.FLOAT, new long[] {1, 2}, "input 'x'")).isEqualTo(expected);
        assertThat(dataFirst.data().read(DType.FLOAT, new long[] {1, 2}, "input 'x'")).isEqualTo(expected);
        assertThat(usual.name()).isEqualTo("x");
        assertThat(usual.shape()).containsExactly(1L, 2L);
    }

    @Test
    void keepsADataProblemForLaterAndReadsOnAfterIt() throws IOException {
        Oip.InferInput input = input("{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP32\","
                + "\"data\":[[1,\"two\"],[3,[4,5]]],\"parameters\":{\"binary_data\":false}}");

        assertThat(input.parameters()).isEqualTo(Map.of("binary_data", false));
        assertThatThrownBy(() -> input.data().read(DType.FLOAT, new long[] {1, 2}, "input 'x'"))
                .isInstanceOfSatisfying(InputValidationException.class,
                        e -> assertThat(e.problem()).isEqualTo(InputProblem.NOT_NUMERIC))
                .hasMessage("input 'x' element 1: expected a FP32 number, found \"two\"");
    }

    @Test
    void aHugeDeclaredShapeDoesNotAllocateIt() throws IOException {
        // 4 GB of floats if the declared shape were allocated before the data was counted.
        Oip.InferInput input = input("{\"name\":\"x\",\"shape\":[1,1000000000],\"datatype\":\"FP32\",\"data\":[1,2]}");

        assertThatThrownBy(() -> input.data().read(DType.FLOAT, new long[] {1, 1000000000}, "input 'x'"))
                .hasMessage("input 'x': shape [1,1000000000] expected 1000000000 values, found 2");
    }

    @Test
    void aDeclaredBatchOverMaxBatchIsRefusedWithoutReadingItsData() throws IOException {
        Oip.InferInput input = input("{\"name\":\"x\",\"shape\":[257,1],\"datatype\":\"FP32\",\"data\":[\"unread\"]}");

        assertThatThrownBy(() -> input.data().read(DType.FLOAT, new long[] {257, 1}, "input 'x'"))
                .isInstanceOfSatisfying(InputValidationException.class,
                        e -> assertThat(e.problem()).isEqualTo(InputProblem.BATCH_TOO_LARGE))
                .hasMessage("expected at most 256 instances (microkernel.serving.max-batch), found 257");
    }

    @Test
    void dataBeforeItsShapeIsKeptAsWrittenAndReadOnceTheShapeIsKnown() throws IOException {
        Oip.InferInput input = input("{\"data\":[[1.5, 2e0],[NaN, 4]],\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\"}");

        assertThatThrownBy(() -> input.data().read(DType.FLOAT, new long[] {2, 2}, "input 'x'"))
                .hasMessage("input 'x' element 2: expected a finite FP32 value, found NaN");
        Oip.InferInput fine = input("{\"data\":[[1.5, 2e0],[3, 4]],\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\"}");
        assertThat(fine.data().read(DType.FLOAT, new long[] {2, 2}, "input 'x'"))
                .isEqualTo(io.microkernel.tensor.Tensor.ofFloats(new long[] {2, 2}, 1.5f, 2f, 3f, 4f));
    }

    @Test
    void tooManyValuesAreRejectedWithoutReadingTheRest() throws IOException {
        Oip.InferInput input = input("{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"INT64\",\"data\":[1,2,3,\"ignored\",[]]}");

        assertThatThrownBy(() -> input.data().read(DType.INT64, new long[] {1, 2}, "input 'x'"))
                .isInstanceOfSatisfying(InputValidationException.class,
                        e -> assertThat(e.problem()).isEqualTo(InputProblem.DATA_LENGTH_MISMATCH))
                .hasMessage("input 'x': shape [1,2] expected 2 values, found more");
    }

    @Test
    void nullDataIsNoData() throws IOException {
        assertThat(input("{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":null}").data()).isNull();
    }
}
