package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import io.microkernel.serving.Classification;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.TensorData;
import io.microkernel.serving.TensorInput;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request and response bodies of the Open Inference Protocol v2 (KServe, Triton). */
public final class Oip {

    /** Extra output naming the predicted class of each row, added for classifiers. */
    static final String PREDICTED_CLASS = "predicted_class";

    private Oip() {
    }

    public record InferRequest(String id, List<InferInput> inputs, List<RequestedOutput> outputs,
            Map<String, Object> parameters) {

        List<TensorInput> tensorInputs() {
            if (inputs == null) {
                return List.of();
            }
            return inputs.stream().map(i -> i == null ? null : new TensorInput(i.name(), i.shape(), i.datatype(), i.data())).toList();
        }
    }

    /** One input; its {@code data} is read by {@link InferInputReader} straight into a tensor. */
    @JsonDeserialize(using = InferInputReader.class)
    public record InferInput(String name, List<Long> shape, String datatype,
            @Schema(type = SchemaType.ARRAY, description = "the elements in row-major order, flat or nested") TensorData data,
            Map<String, Object> parameters) {
    }

    public record RequestedOutput(String name) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record InferResponse(
            @JsonProperty("model_name") String modelName,
            @JsonProperty("model_version") String modelVersion,
            String id,
            List<InferOutput> outputs) {

        static InferResponse of(String model, String id, Prediction prediction, List<RequestedOutput> requested) {
            Set<String> available = prediction.outputs().stream().map(NamedTensor::name).collect(Collectors.toSet());
            // A model output of the same name wins over the added one.
            boolean addClassOutput = prediction.isClassification() && available.add(PREDICTED_CLASS);
            Set<String> wanted = null;
            if (requested != null && !requested.isEmpty()) {
                wanted = requested.stream().map(RequestedOutput::name).collect(Collectors.toSet());
                for (String name : wanted) {
                    if (!available.contains(name)) {
                        throw new InputValidationException(InputProblem.UNKNOWN_INPUT,
                                "expected requested outputs among " + available + ", found '" + name + "'");
                    }
                }
            }
            List<InferOutput> outputs = new ArrayList<>();
            for (NamedTensor output : prediction.outputs()) {
                if (wanted == null || wanted.contains(output.name())) {
                    Tensor tensor = output.tensor();
                    outputs.add(new InferOutput(output.name(), tensor.dtype().oipName(), Shapes.toList(tensor.shape()), tensor));
                }
            }
            if (addClassOutput && (wanted == null || wanted.contains(PREDICTED_CLASS))) {
                List<String> classes = prediction.classifications().stream().map(Classification::className).toList();
                outputs.add(new InferOutput(PREDICTED_CLASS, "BYTES", List.of((long) classes.size()), classes));
            }
            return new InferResponse(model, Integer.toString(prediction.version()), id, outputs);
        }
    }

    /** One output; {@code data} is a {@link Tensor}, written flat, or the class names of {@code predicted_class}. */
    public record InferOutput(String name, String datatype, List<Long> shape,
            @JsonSerialize(using = FlatElements.class) @Schema(type = SchemaType.ARRAY) Object data) {
    }

    /** Writes a tensor's elements as one flat JSON array straight from its buffer; other values as Jackson would. */
    static final class FlatElements extends StdSerializer<Object> {

        FlatElements() {
            super(Object.class);
        }

        @Override
        public void serialize(Object value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            if (!(value instanceof Tensor tensor)) {
                provider.defaultSerializeValue(value, gen);
                return;
            }
            int n = tensor.elementCount();
            gen.writeStartArray(tensor, n);
            DType dtype = tensor.dtype();
            for (int i = 0; i < n; i++) {
                if (dtype == DType.FLOAT) {
                    gen.writeNumber((float) tensor.getDouble(i));
                } else if (dtype == DType.DOUBLE) {
                    gen.writeNumber(tensor.getDouble(i));
                } else if (dtype == DType.BOOL) {
                    gen.writeBoolean(tensor.getLong(i) != 0);
                } else {
                    gen.writeNumber(tensor.getLong(i));
                }
            }
            gen.writeEndArray();
        }
    }

    public record ServerMetadata(String name, String version, List<String> extensions) {
    }

    public record TensorMetadata(String name, String datatype, List<Long> shape) {

        static TensorMetadata of(TensorSpec spec) {
            return new TensorMetadata(spec.name(), spec.dtype().oipName(), spec.shape());
        }
    }

    /** Model metadata; {@code classes} is an addition for classifiers. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record ModelMetadata(String name, List<String> versions, String platform, List<TensorMetadata> inputs,
            List<TensorMetadata> outputs, List<String> classes) {
    }

    public record Readiness(String name, boolean ready) {
    }

    public record Liveness(boolean live) {
    }
}
