package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.JsonTensorReader;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Property-based fuzzing of the request readers, called directly (no HTTP, so thousands of tries
 * take seconds): whatever the JSON, a reader either produces tensors of exactly the declared type
 * and shape, or refuses with an {@link InputValidationException} (a 400) or a Jackson
 * {@link JsonProcessingException} (a 400) whose message says what was expected. Anything else
 * (a runtime exception, an error) would be a 500 and fails the property.
 */
class RequestReaderFuzzTest {

    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    private static final RequestTranslator TRANSLATOR = new RequestTranslator(256);
    private static final List<TensorSpec> ONE_INPUT = List.of(new TensorSpec("x", DType.FLOAT, List.of(-1L, 2L)));
    private static final List<TensorSpec> TWO_INPUTS = List.of(new TensorSpec("x", DType.INT64, List.of(-1L, 2L)),
            new TensorSpec("y", DType.BOOL, List.of(-1L)));

    @Property(tries = 4000)
    void tensorDataIsReadIntoTheDeclaredShapeOrRefused(@ForAll("values") String value, @ForAll DType dtype,
            @ForAll("shapes") long[] shape) throws Exception {
        try (JsonParser p = JSON.createParser(value)) {
            p.nextToken();
            Tensor tensor = JsonTensorReader.readFlat(p, dtype, shape, "input 'x'");
            assertThat(tensor.dtype()).isEqualTo(dtype);
            assertThat(tensor.shape()).isEqualTo(shape);
        } catch (InputValidationException e) {
            assertThat(e.getMessage()).startsWith("input 'x'").contains("expected");
        }
    }

    @Property(tries = 3000)
    void oipRequestsBecomeTensorsOrA400(@ForAll("oipBodies") String body, @ForAll boolean twoInputs) {
        List<TensorSpec> specs = twoInputs ? TWO_INPUTS : ONE_INPUT;
        Oip.InferRequest request;
        try {
            request = JSON.readValue(body, Oip.InferRequest.class);
        } catch (JsonProcessingException e) {
            return; // ProblemMapper answers 400 malformed-request
        }
        try {
            List<NamedTensor> tensors = TRANSLATOR.fromTensors(specs, request == null ? null : request.tensorInputs());
            assertThat(tensors).extracting(NamedTensor::name).containsExactlyElementsOf(specs.stream().map(TensorSpec::name).toList());
        } catch (InputValidationException e) {
            assertThat(e.getMessage()).contains("expected");
        }
    }

    @Property(tries = 3000)
    void rowsBecomeOneTensorPerInputOrA400(@ForAll("rows") List<String> rows, @ForAll boolean twoInputs) throws Exception {
        List<TensorSpec> specs = twoInputs ? TWO_INPUTS : ONE_INPUT;
        List<TokenBuffer> tokens = new ArrayList<>();
        for (String row : rows) {
            tokens.add(JSON.readValue(row, TokenBuffer.class));
        }
        try {
            List<NamedTensor> tensors = TRANSLATOR.fromInstances(specs, tokens);
            assertThat(tensors).hasSize(specs.size()).allSatisfy(t -> assertThat(t.tensor().batchSize()).isEqualTo(rows.size()));
        } catch (InputValidationException e) {
            assertThat(e.getMessage()).contains("expected");
        }
    }

    @Provide
    Arbitrary<String> values() {
        return FuzzInputs.value(3);
    }

    @Provide
    Arbitrary<long[]> shapes() {
        return Arbitraries.longs().between(0, 4).list().ofMaxSize(3)
                .map(dims -> dims.stream().mapToLong(Long::longValue).toArray());
    }

    @Provide
    Arbitrary<String> oipBodies() {
        Arbitrary<String> inputs = FuzzInputs.oipInput().list().ofMaxSize(3).map(FuzzInputs::array);
        Arbitrary<String> body = inputs.map(i -> "{\"id\":\"fuzz\",\"inputs\":" + i + "}");
        return Arbitraries.oneOf(body, body, FuzzInputs.broken(body));
    }

    @Provide
    Arbitrary<List<String>> rows() {
        Arbitrary<String> pair = net.jqwik.api.Combinators.combine(FuzzInputs.value(2), FuzzInputs.value(1))
                .as((x, y) -> "{\"x\":" + x + ",\"y\":" + y + "}");
        return Arbitraries.oneOf(FuzzInputs.value(3), pair).list().ofMinSize(1).ofMaxSize(4);
    }
}
