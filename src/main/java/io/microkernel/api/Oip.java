package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
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
import io.microkernel.serving.ModelSignature;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.TensorData;
import io.microkernel.serving.TensorInput;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request and response bodies of the Open Inference Protocol v2 (KServe, Triton). */
public final class Oip {

    /** Extra output naming the predicted class of each row, added for classifiers. */
    static final String PREDICTED_CLASS = "predicted_class";

    private Oip() {
    }

    /** Request parameters the service honours; any other is refused. */
    static final String BINARY_DATA_OUTPUT = "binary_data_output";
    /** Input and output parameter: the byte size of a tensor sent after the JSON header. */
    static final String BINARY_DATA_SIZE = "binary_data_size";
    /** Requested-output parameter: return this output as binary data. */
    static final String BINARY_DATA = "binary_data";

    /** {@code model_name} is tolerated because Triton's own examples put it in the body; the path names the model. */
    @JsonIgnoreProperties({"model_name"})
    public record InferRequest(String id, List<InferInput> inputs, List<RequestedOutput> outputs,
            Map<String, Object> parameters) {

        List<TensorInput> tensorInputs() {
            if (inputs == null) {
                return List.of();
            }
            return inputs.stream().map(i -> i == null ? null : new TensorInput(i.name(), i.shape(), i.datatype(), i.data())).toList();
        }

        /** Whether outputs are binary unless a requested output says otherwise ({@code binary_data_output}). */
        boolean binaryOutputByDefault() {
            checkParameters("request", parameters, Set.of(BINARY_DATA_OUTPUT));
            return flag(parameters, BINARY_DATA_OUTPUT, "request");
        }
    }

    /** One input; its {@code data} is read by {@link InferInputReader} straight into a tensor. */
    @JsonDeserialize(using = InferInputReader.class)
    public record InferInput(String name, List<Long> shape, String datatype,
            @Schema(type = SchemaType.ARRAY, description = "the elements in row-major order, flat or nested") TensorData data,
            Map<String, Object> parameters) {
    }

    public record RequestedOutput(String name, Map<String, Object> parameters) {

        /** Whether this output goes back as binary data: its own {@code binary_data}, else the request's default. */
        boolean binary(boolean byDefault) {
            checkParameters("output '" + name + "'", parameters, Set.of(BINARY_DATA));
            return parameters != null && parameters.containsKey(BINARY_DATA) ? flag(parameters, BINARY_DATA, "output '" + name + "'") : byDefault;
        }
    }

    /** Refuses parameters the service does not honour, so a client never believes one took effect. */
    static void checkParameters(String where, Map<String, Object> parameters, Set<String> honoured) {
        if (parameters == null) {
            return;
        }
        for (String key : parameters.keySet()) {
            if (!honoured.contains(key)) {
                throw new InputValidationException(InputProblem.MALFORMED, where + ": expected parameters among "
                        + new java.util.TreeSet<>(honoured) + ", found '" + key + "', which this service does not support");
            }
        }
    }

    private static boolean flag(Map<String, Object> parameters, String key, String where) {
        Object value = parameters == null ? null : parameters.get(key);
        if (value == null || value instanceof Boolean) {
            return Boolean.TRUE.equals(value);
        }
        throw new InputValidationException(InputProblem.MALFORMED,
                where + ": expected parameter '" + key + "' to be true or false, found " + value);
    }

    /**
     * The outputs a version declares: its graph outputs, and for a classifier {@code predicted_class},
     * the class name of each row (BYTES, one per batch row), unless a graph output already has that name.
     */
    static List<TensorMetadata> declaredOutputs(ModelSignature signature) {
        List<TensorMetadata> outputs = new ArrayList<>(signature.outputs().stream().map(TensorMetadata::of).toList());
        boolean taken = signature.outputs().stream().anyMatch(o -> o.name().equals(PREDICTED_CLASS));
        if (signature.scoresOutput().isPresent() && !taken) {
            outputs.add(new TensorMetadata(PREDICTED_CLASS, "BYTES", List.of(-1L)));
        }
        return outputs;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record InferResponse(
            @JsonProperty("model_name") String modelName,
            @JsonProperty("model_version") String modelVersion,
            String id,
            List<InferOutput> outputs) {

        /** The answer under prediction id {@code id} (the request's, or one the service made up). */
        static InferResponse of(String model, InferRequest request, Prediction prediction, String id) {
            boolean binaryByDefault = request.binaryOutputByDefault();
            Map<String, Boolean> wanted = wanted(request.outputs(), binaryByDefault, prediction);
            List<InferOutput> outputs = new ArrayList<>();
            for (NamedTensor output : prediction.outputs()) {
                Boolean binary = wanted == null ? Boolean.valueOf(binaryByDefault) : wanted.get(output.name());
                if (binary != null) {
                    outputs.add(InferOutput.of(output.name(), output.tensor(), binary));
                }
            }
            boolean addClassOutput = prediction.isClassification()
                    && prediction.outputs().stream().noneMatch(o -> o.name().equals(PREDICTED_CLASS));
            Boolean classBinary = wanted == null ? Boolean.valueOf(binaryByDefault) : wanted.get(PREDICTED_CLASS);
            if (addClassOutput && classBinary != null) {
                List<String> classes = prediction.classifications().stream().map(Classification::className).toList();
                outputs.add(InferOutput.ofStrings(PREDICTED_CLASS, classes, classBinary));
            }
            return new InferResponse(model, Integer.toString(prediction.version()), id, outputs);
        }

        /** The requested outputs by name, each with whether it goes back binary; null when the request names none (all of them). */
        private static Map<String, Boolean> wanted(List<RequestedOutput> requested, boolean binaryByDefault, Prediction prediction) {
            if (requested == null || requested.isEmpty()) {
                return null;
            }
            Set<String> available = new java.util.LinkedHashSet<>();
            prediction.outputs().forEach(o -> available.add(o.name()));
            if (prediction.isClassification()) {
                available.add(PREDICTED_CLASS);
            }
            Map<String, Boolean> wanted = new java.util.HashMap<>();
            for (RequestedOutput output : requested) {
                if (output == null || !available.contains(output.name())) {
                    throw new InputValidationException(InputProblem.UNKNOWN_INPUT, "expected requested outputs among "
                            + available + ", found '" + (output == null ? null : output.name()) + "'");
                }
                wanted.put(output.name(), output.binary(binaryByDefault));
            }
            return wanted;
        }

        /** Whether any output is sent as binary data after the JSON. */
        boolean hasBinary() {
            return outputs.stream().anyMatch(o -> o.binary() != null);
        }
    }

    /**
     * One output; {@code data} is a {@link Tensor}, written flat, or the class names of
     * {@code predicted_class}. A binary output has no {@code data}: its bytes ({@link #binary}) follow
     * the JSON, and {@code parameters.binary_data_size} says how many there are.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record InferOutput(String name, String datatype, List<Long> shape, Map<String, Object> parameters,
            @JsonSerialize(using = FlatElements.class) @Schema(type = SchemaType.ARRAY) Object data,
            @JsonIgnore byte[] binary) {

        static InferOutput of(String name, Tensor tensor, boolean binary) {
            List<Long> shape = Shapes.toList(tensor.shape());
            if (!binary) {
                return new InferOutput(name, tensor.dtype().oipName(), shape, null, tensor, null);
            }
            byte[] bytes = tensor.toBytes(ByteOrder.LITTLE_ENDIAN);
            return new InferOutput(name, tensor.dtype().oipName(), shape, Map.of(BINARY_DATA_SIZE, bytes.length), null, bytes);
        }

        /** A BYTES output; as binary data each element is a 4-byte little-endian length and then its UTF-8 bytes. */
        static InferOutput ofStrings(String name, List<String> values, boolean binary) {
            List<Long> shape = List.of((long) values.size());
            if (!binary) {
                return new InferOutput(name, "BYTES", shape, null, values, null);
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (String value : values) {
                byte[] utf8 = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).array());
                out.writeBytes(utf8);
            }
            byte[] bytes = out.toByteArray();
            return new InferOutput(name, "BYTES", shape, Map.of(BINARY_DATA_SIZE, bytes.length), null, bytes);
        }
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
            for (int i = 0; i < n; i++) {
                Object element = tensor.boxed(i);
                if (element instanceof Float f) {
                    gen.writeNumber(f);
                } else if (element instanceof Double d) {
                    gen.writeNumber(d);
                } else if (element instanceof Boolean b) {
                    gen.writeBoolean(b);
                } else if (element instanceof String text) {
                    gen.writeString(text);
                } else {
                    gen.writeNumber(((Number) element).longValue());
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
