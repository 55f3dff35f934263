package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.TensorSpec;
import io.microkernel.testing.TensorValues;
import java.util.List;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.Test;

class RequestTranslatorTest {

    private static final TensorSpec FEATURES = new TensorSpec("input", DType.FLOAT, List.of(-1L, 4L));
    private static final TensorSpec A = new TensorSpec("a", DType.FLOAT, List.of(-1L, 2L));
    private static final TensorSpec B = new TensorSpec("b", DType.FLOAT, List.of(-1L, 2L));

    private final RequestTranslator translator = new RequestTranslator(3);

    private static TokenBuffer json(String text) {
        return TensorValues.tokens(text);
    }

    private static TensorInput tensor(String name, List<Long> shape, String datatype, String data) {
        return new TensorInput(name, shape, datatype, TensorValues.data(data));
    }

    private void assertProblem(ThrowableAssert.ThrowingCallable call, InputProblem problem, String detail) {
        assertThatThrownBy(call).isInstanceOfSatisfying(InputValidationException.class,
                e -> assertThat(e.problem()).isEqualTo(problem)).hasMessageContaining(detail);
    }

    @Test
    void acceptsFlatAndNestedDataInRowMajorOrder() {
        List<NamedTensor> flat = translator.fromTensors(List.of(FEATURES),
                List.of(tensor("input", List.of(2L, 4L), "FP32", "[1,2,3,4,5,6,7,8]")));
        List<NamedTensor> nested = translator.fromTensors(List.of(FEATURES),
                List.of(tensor("input", List.of(2L, 4L), "FP32", "[[1,2,3,4],[5,6,7,8]]")));

        assertThat(TensorValues.floats(flat.get(0).tensor())).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(TensorValues.floats(nested.get(0).tensor())).containsExactly(TensorValues.floats(flat.get(0).tensor()));
        assertThat(nested.get(0).tensor().shape()).containsExactly(2, 4);
        assertThat(nested.get(0).tensor().batchSize()).isEqualTo(2);
    }

    @Test
    void translatesEveryDatatype() {
        List<TensorSpec> specs = List.of(
                new TensorSpec("i32", DType.INT32, List.of(-1L, 2L)),
                new TensorSpec("i64", DType.INT64, List.of(-1L, 2L)),
                new TensorSpec("f64", DType.DOUBLE, List.of(-1L, 2L)),
                new TensorSpec("flag", DType.BOOL, List.of(-1L, 2L)));

        List<NamedTensor> tensors = translator.fromTensors(specs, List.of(
                tensor("flag", List.of(1L, 2L), "BOOL", "[true,false]"),
                tensor("f64", List.of(1L, 2L), "FP64", "[0.1,1e300]"),
                tensor("i64", List.of(1L, 2L), "INT64", "[9007199254740993,-4]"),
                tensor("i32", List.of(1L, 2L), "INT32", "[2147483647,3.0]")));

        assertThat(tensors).extracting(NamedTensor::name).containsExactly("i32", "i64", "f64", "flag");
        assertThat(TensorValues.ints(tensors.get(0).tensor())).containsExactly(2147483647, 3);
        assertThat(TensorValues.longs(tensors.get(1).tensor())).containsExactly(9007199254740993L, -4L);
        assertThat(TensorValues.doubles(tensors.get(2).tensor())).containsExactly(0.1, 1e300);
        assertThat(TensorValues.booleans(tensors.get(3).tensor())).containsExactly(true, false);
    }

    @Test
    void rejectsUnknownMissingAndRepeatedInputs() {
        assertProblem(() -> translator.fromTensors(List.of(A, B), List.of(tensor("c", List.of(1L, 2L), "FP32", "[1,2]"))),
                InputProblem.UNKNOWN_INPUT, "expected inputs [a, b], found unknown input 'c'");
        assertProblem(() -> translator.fromTensors(List.of(A, B), List.of(tensor("a", List.of(1L, 2L), "FP32", "[1,2]"))),
                InputProblem.MISSING_INPUT, "missing [b]");
        assertProblem(() -> translator.fromTensors(List.of(A, B), List.of()),
                InputProblem.MISSING_INPUT, "expected inputs [a, b], found none");
        assertProblem(() -> translator.fromTensors(List.of(A, B), List.of(
                        tensor("a", List.of(1L, 2L), "FP32", "[1,2]"), tensor("a", List.of(1L, 2L), "FP32", "[1,2]"))),
                InputProblem.DUPLICATE_INPUT, "expected input 'a' once");
    }

    @Test
    void rejectsWrongRankShapeAndDatatype() {
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(4L), "FP32", "[1,2,3,4]"))),
                InputProblem.WRONG_SHAPE, "input 'input': expected shape [-1,4], found [4]");
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(1L, 3L), "FP32", "[1,2,3]"))),
                InputProblem.WRONG_SHAPE, "expected shape [-1,4], found [1,3]");
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(1L, 4L), "INT64", "[1,2,3,4]"))),
                InputProblem.WRONG_DATATYPE, "expected datatype FP32, found INT64");
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(1L, 4L), "FP16", "[1,2,3,4]"))),
                InputProblem.WRONG_DATATYPE, "expected datatype FP32, found FP16");
        assertProblem(() -> translator.fromTensors(List.of(A, B), List.of(
                        tensor("a", List.of(1L, 2L), "FP32", "[1,2]"), tensor("b", List.of(2L, 2L), "FP32", "[1,2,3,4]"))),
                InputProblem.WRONG_SHAPE, "expected the same batch size for every input, found a 1, b 2");
    }

    @Test
    void rejectsDataThatDoesNotMatchTheShape() {
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(2L, 4L), "FP32", "[1,2,3,4,5,6,7]"))),
                InputProblem.DATA_LENGTH_MISMATCH, "shape [2,4] expected 8 values, found 7");
    }

    @Test
    void rejectsNonFiniteAndNonNumericValues() {
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(1L, 4L), "FP32", "[1,NaN,3,4]"))),
                InputProblem.NOT_FINITE, "input 'input' element 1: expected a finite FP32 value, found NaN");
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(1L, 4L), "FP32", "[1,2,\"-Infinity\",4]"))),
                InputProblem.NOT_FINITE, "element 2: expected a finite FP32 value");
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(1L, 4L), "FP32", "[1,2,3,1e39]"))),
                InputProblem.NOT_FINITE, "outside the FP32 range");
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(1L, 4L), "FP32", "[1,\"two\",3,4]"))),
                InputProblem.NOT_NUMERIC, "element 1: expected a FP32 number, found \"two\"");
        assertProblem(() -> translator.fromTensors(List.of(new TensorSpec("n", DType.INT64, List.of(-1L))),
                        List.of(tensor("n", List.of(1L), "INT64", "[1.5]"))),
                InputProblem.WRONG_DATATYPE, "expected an INT64 integer");
        assertProblem(() -> translator.fromTensors(List.of(new TensorSpec("n", DType.INT32, List.of(-1L))),
                        List.of(tensor("n", List.of(1L), "INT32", "[3000000000]"))),
                InputProblem.WRONG_DATATYPE, "expected an INT32 integer in [-2147483648, 2147483647], found 3000000000");
        assertProblem(() -> translator.fromTensors(List.of(new TensorSpec("f", DType.BOOL, List.of(-1L))),
                        List.of(tensor("f", List.of(1L), "BOOL", "[1]"))),
                InputProblem.WRONG_DATATYPE, "expected true or false, found 1");
    }

    @Test
    void rejectsEmptyAndOversizedBatches() {
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(0L, 4L), "FP32", "[]"))),
                InputProblem.EMPTY_BATCH, "expected at least 1 instance, found 0");
        assertProblem(() -> translator.fromTensors(List.of(FEATURES), List.of(tensor("input", List.of(4L, 4L), "FP32", "[" + "1,".repeat(15) + "1]"))),
                InputProblem.BATCH_TOO_LARGE, "expected at most 3 instances (microkernel.serving.max-batch), found 4");
        assertProblem(() -> translator.fromInstances(List.of(FEATURES), List.of()),
                InputProblem.EMPTY_BATCH, "expected at least 1 instance, found 0");
        TokenBuffer row = json("[1,2,3,4]");
        assertProblem(() -> translator.fromInstances(List.of(FEATURES), List.of(row, row, row, row)),
                InputProblem.BATCH_TOO_LARGE, "found 4");
    }

    @Test
    void instancesBecomeOneBatchPerInput() {
        List<NamedTensor> single = translator.fromInstances(List.of(FEATURES), List.of(json("[1,2,3,4]"), json("{\"input\":[5,6,7,8]}")));
        assertThat(single.get(0).tensor().shape()).containsExactly(2, 4);
        assertThat(TensorValues.floats(single.get(0).tensor())).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);

        List<NamedTensor> multi = translator.fromInstances(List.of(A, B),
                List.of(json("{\"b\":[3,4],\"a\":[1,2]}"), json("{\"a\":[5,6],\"b\":[7,8]}")));
        assertThat(TensorValues.floats(multi.get(0).tensor())).containsExactly(1, 2, 5, 6);
        assertThat(TensorValues.floats(multi.get(1).tensor())).containsExactly(3, 4, 7, 8);
    }

    @Test
    void rejectsInstancesOfTheWrongShapeOrMissingInputs() {
        assertProblem(() -> translator.fromInstances(List.of(FEATURES), List.of(json("[1,2,3]"))),
                InputProblem.WRONG_SHAPE, "input 'input' instance 0: expected shape [4], found [3]");
        assertProblem(() -> translator.fromInstances(List.of(new TensorSpec("m", DType.FLOAT, List.of(-1L, 2L, 2L))),
                        List.of(json("[[1,2],[3]]"))),
                InputProblem.WRONG_SHAPE, "ragged array");
        assertProblem(() -> translator.fromInstances(List.of(A, B), List.of(json("{\"a\":[1,2]}"))),
                InputProblem.MISSING_INPUT, "instance 0: expected inputs [a, b], found no input 'b'");
        assertProblem(() -> translator.fromInstances(List.of(A, B), List.of(json("{\"a\":[1,2],\"b\":[1,2],\"c\":1}"))),
                InputProblem.UNKNOWN_INPUT, "found unknown input 'c'");
        assertProblem(() -> translator.fromInstances(List.of(A, B), List.of(json("[1,2]"))),
                InputProblem.MALFORMED, "instance 0: expected an object with inputs [a, b], found [1,2]");
        assertProblem(() -> translator.fromInstances(List.of(FEATURES), List.of(json("[1,2,3,true]"))),
                InputProblem.NOT_NUMERIC, "element 3: expected a FP32 number, found true");
    }

    @Test
    void rowsAreReadAsTheirJsonMeans() {
        List<NamedTensor> repeated = translator.fromInstances(List.of(A, B), List.of(json("{\"a\":[9,9],\"b\":[3,4],\"a\":[1,2]}")));
        assertThat(TensorValues.floats(repeated.get(0).tensor())).as("the last of repeated keys wins").containsExactly(1, 2);
        assertThat(TensorValues.floats(repeated.get(1).tensor())).containsExactly(3, 4);

        List<NamedTensor> emptyRows = translator.fromInstances(List.of(new TensorSpec("e", DType.FLOAT, List.of(-1L, -1L))),
                List.of(json("[]"), json("[]")));
        assertThat(emptyRows.get(0).tensor().shape()).containsExactly(2, 0);
    }

    @Test
    void rejectsRowsNestedTooDeepOrNotAtAll() {
        assertProblem(() -> translator.fromInstances(List.of(FEATURES), java.util.Arrays.asList((TokenBuffer) null)),
                InputProblem.WRONG_SHAPE, "input 'input' instance 0: expected shape [4], found []");
        assertProblem(() -> translator.fromInstances(List.of(FEATURES), List.of(json("[[1,2,3,4]]"))),
                InputProblem.WRONG_SHAPE, "expected shape [4], found [1,4]");
        assertProblem(() -> translator.fromInstances(List.of(new TensorSpec("m", DType.FLOAT, List.of(-1L, 2L, 2L))),
                        List.of(json("[[1,2],[3,[4]]]"))),
                InputProblem.WRONG_SHAPE, "input 'm' instance 0: expected a value at depth 2, found a nested array");
        assertProblem(() -> translator.fromInstances(List.of(new TensorSpec("m", DType.FLOAT, List.of(-1L, 2L, 2L))),
                        List.of(json("[[1,2],3]"))),
                InputProblem.WRONG_SHAPE, "expected rows of 2 values at depth 1, found 3 (ragged array)");
        assertProblem(() -> translator.fromInstances(List.of(FEATURES), List.of(json("[1,2,3,4]"), json("[1,2,3]"))),
                InputProblem.WRONG_SHAPE, "input 'input' instance 1: expected shape [4], found [3]");
        assertProblem(() -> translator.fromInstances(List.of(new TensorSpec("v", DType.INT64, List.of(-1L, -1L))),
                        List.of(json("[1,2]"), json("[1,2,3]"))),
                InputProblem.WRONG_SHAPE, "instance 1: expected the shape of instance 0, [2], found [3]");
        assertProblem(() -> translator.fromInstances(List.of(FEATURES), List.of(json("{\"input\":[1,2,3,4],\"extra\":1}"))),
                InputProblem.WRONG_SHAPE, "expected shape [4], found []");
    }
}
