package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.Tensor;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class JsonTensorReaderTest {

    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private static JsonParser parser(String json) throws IOException {
        JsonParser p = JSON.createParser(json);
        p.nextToken();
        return p;
    }

    private static Tensor read(String json, DType dtype, long... shape) throws IOException {
        try (JsonParser p = parser(json)) {
            return JsonTensorReader.readFlat(p, dtype, shape, "input 'x'");
        }
    }

    @Test
    void readsFlatNestedAndScalarDataInRowMajorOrder() throws IOException {
        assertThat(read("[[1,2],[3,4]]", DType.FLOAT, 2, 2)).isEqualTo(Tensor.ofFloats(new long[] {2, 2}, 1, 2, 3, 4));
        assertThat(read("[9007199254740993,-4]", DType.INT64, 2)).isEqualTo(Tensor.ofLongs(new long[] {2}, 9007199254740993L, -4));
        assertThat(read("[2147483647,3.0]", DType.INT32, 2)).isEqualTo(Tensor.ofInts(new long[] {2}, Integer.MAX_VALUE, 3));
        assertThat(read("[true,false]", DType.BOOL, 2)).isEqualTo(Tensor.ofBooleans(new long[] {2}, true, false));
        assertThat(read("[0.1,1e300]", DType.DOUBLE, 2)).isEqualTo(Tensor.ofDoubles(new long[] {2}, 0.1, 1e300));
        assertThat(read("7", DType.FLOAT)).isEqualTo(Tensor.ofFloats(new long[0], 7));
    }

    @Test
    void stopsAtTheFirstValueBeyondTheShape() throws IOException {
        try (JsonParser p = parser("[1,2,3,4,5,6,7,8,9]")) {
            assertThatThrownBy(() -> JsonTensorReader.readFlat(p, DType.FLOAT, new long[] {1, 2}, "input 'x'"))
                    .isInstanceOfSatisfying(InputValidationException.class,
                            e -> assertThat(e.problem()).isEqualTo(InputProblem.DATA_LENGTH_MISMATCH))
                    .hasMessage("input 'x': shape [1,2] expected 2 values, found more");
            // The third value was the last one looked at: the rest of the array is never read.
            assertThat(p.getText()).isEqualTo("3");
        }
    }

    @Test
    void countsWhatIsMissing() {
        assertThatThrownBy(() -> read("[1,2,3,4,5,6,7]", DType.FLOAT, 2, 4))
                .isInstanceOfSatisfying(InputValidationException.class,
                        e -> assertThat(e.problem()).isEqualTo(InputProblem.DATA_LENGTH_MISMATCH))
                .hasMessage("input 'x': shape [2,4] expected 8 values, found 7");
    }

    @Test
    void nestedDataMustFollowTheShapeExactly() throws IOException {
        assertThatThrownBy(() -> read("[[1,2,3,4],[5,6,7]]", DType.FLOAT, 2, 4))
                .isInstanceOfSatisfying(InputValidationException.class,
                        e -> assertThat(e.problem()).isEqualTo(InputProblem.WRONG_SHAPE))
                .hasMessage("input 'x': expected 4 items at depth 1 of nested data for shape [2,4], found 3 (ragged array)");
        assertThatThrownBy(() -> read("[[1,2,3],[4,5,6,7,8]]", DType.FLOAT, 2, 4))
                .hasMessage("input 'x': expected 4 items at depth 1 of nested data for shape [2,4], found 3 (ragged array)");
        assertThatThrownBy(() -> read("[[1,2,3,4,5,6,7,8]]", DType.FLOAT, 2, 4))
                .hasMessage("input 'x': expected 4 items at depth 1 of nested data for shape [2,4], found 8 (ragged array)");
        assertThatThrownBy(() -> read("[1,2,3,4,[5,6,7,8]]", DType.FLOAT, 2, 4))
                .hasMessage("input 'x': expected a value at depth 1 of nested data for shape [2,4], found an array");
        assertThatThrownBy(() -> read("[[[1,2,3,4]],[[5,6,7,8]]]", DType.FLOAT, 2, 4))
                .hasMessage("input 'x': expected a value at depth 2 of nested data for shape [2,4], found an array");
        assertThat(read("[[1,2,3,4],[5,6,7,8]]", DType.FLOAT, 2, 4)).isEqualTo(read("[1,2,3,4,5,6,7,8]", DType.FLOAT, 2, 4));
    }

    @Test
    void narrowTypesCheckTheirRanges() throws IOException {
        assertThat(read("[-128,127]", DType.INT8, 2).getLong(0)).isEqualTo(-128);
        assertThat(read("[0,255]", DType.UINT8, 2).getLong(1)).isEqualTo(255);
        assertThat(read("[-32768,32767]", DType.INT16, 2).getLong(0)).isEqualTo(-32768);
        assertThat(read("[0.5,65504]", DType.FLOAT16, 2).getDouble(1)).isEqualTo(65504.0);
        assertThatThrownBy(() -> read("[256]", DType.UINT8, 1))
                .hasMessage("input 'x' element 0: expected an UINT8 integer in [0, 255], found 256");
        assertThatThrownBy(() -> read("[1.5]", DType.INT16, 1))
                .hasMessage("input 'x' element 0: expected an INT16 integer in [-32768, 32767], found 1.5");
        assertThatThrownBy(() -> read("[65520]", DType.FLOAT16, 1))
                .hasMessage("input 'x' element 0: expected a finite FP16 value, found 65520 (outside the FP16 range)");
    }

    @Test
    void rejectsValuesThatDoNotFitTheType() {
        assertThatThrownBy(() -> read("[1,NaN]", DType.FLOAT, 2)).hasMessage(
                "input 'x' element 1: expected a finite FP32 value, found NaN");
        assertThatThrownBy(() -> read("[1,2,3,1e39]", DType.FLOAT, 4)).hasMessage(
                "input 'x' element 3: expected a finite FP32 value, found 1.0E39 (outside the FP32 range)");
        assertThatThrownBy(() -> read("[1,{\"a\":1}]", DType.DOUBLE, 2)).hasMessage(
                "input 'x' element 1: expected a FP64 number, found {\"a\":1}");
        assertThatThrownBy(() -> read("[1,null]", DType.INT64, 2)).hasMessage(
                "input 'x' element 1: expected an INT64 integer, found null");
        assertThatThrownBy(() -> read("[99999999999999999999]", DType.INT64, 1)).hasMessage(
                "input 'x' element 0: expected an INT64 integer in [-9223372036854775808, 9223372036854775807], found 99999999999999999999");
        assertThatThrownBy(() -> read("[true,0]", DType.BOOL, 2)).hasMessage(
                "input 'x' element 1: expected true or false, found 0");
    }
}
