package io.microkernel.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.JsonTensorReader;
import io.microkernel.serving.TensorData;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.Shapes;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Reads one Open Inference Protocol input from the request stream. When its name, datatype and
 * shape come before {@code data}, as clients write them, the data goes straight into a tensor's
 * buffer as it is parsed, counted against the declared shape; otherwise it is kept as compact JSON text
 * and read once the model's signature is known. A data problem is kept in the {@link TensorData}
 * rather than thrown here, so the checks of name, type and shape still come first, and so Jackson
 * does not wrap it into a "malformed JSON" error.
 *
 * <p>Stateless and thread-safe, as Jackson requires of deserializers.
 */
public final class InferInputReader extends StdDeserializer<Oip.InferInput> {

    private static final TypeReference<Map<String, Object>> PARAMETERS = new TypeReference<>() {
    };

    /** Data of a larger declared batch is not read at all: {@code microkernel.serving.max-batch}. */
    private final long maxBatch;

    public InferInputReader() {
        super(Oip.InferInput.class);
        maxBatch = ConfigProvider.getConfig().getOptionalValue("microkernel.serving.max-batch", Integer.class).orElse(256);
    }

    @Override
    public Oip.InferInput deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        if (!p.isExpectedStartObjectToken()) {
            return (Oip.InferInput) ctxt.handleUnexpectedToken(Oip.InferInput.class, p);
        }
        String name = null;
        List<Long> shape = null;
        String datatype = null;
        TensorData data = null;
        Map<String, Object> parameters = null;
        for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
            JsonStreamContext owner = p.getParsingContext();
            p.nextToken();
            switch (field) {
                case "name" -> name = read(p, ctxt, String.class, field);
                case "shape" -> shape = readShape(p);
                case "datatype" -> datatype = read(p, ctxt, String.class, field);
                case "parameters" -> parameters = read(p, ctxt, PARAMETERS, field);
                case "data" -> data = readData(p, ctxt, owner, name, shape, datatype);
                default -> p.skipChildren();
            }
        }
        return new Oip.InferInput(name, shape, datatype, data, parameters);
    }

    /**
     * The shape, strictly: an array of integers. Jackson on its own would truncate 1.5 to 1 and
     * read "1" as 1; the protocol says dimensions are integers.
     */
    private static List<Long> readShape(JsonParser p) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw shapeProblem(p, "expected an array of integers, found " + describe(p));
        }
        List<Long> dims = new java.util.ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw shapeProblem(p, "dimension " + dims.size() + ": expected an integer, found " + describe(p));
            }
            dims.add(p.getLongValue());
        }
        return dims;
    }

    private static String describe(JsonParser p) throws IOException {
        JsonToken token = p.currentToken();
        if (token == JsonToken.VALUE_STRING) {
            return "the string \"" + p.getText() + "\"";
        }
        return token.isStructStart() ? (token == JsonToken.START_ARRAY ? "an array" : "an object") : p.getText();
    }

    private static JsonMappingException shapeProblem(JsonParser p, String message) {
        return JsonMappingException.wrapWithPath(
                com.fasterxml.jackson.databind.exc.MismatchedInputException.from(p, List.class, message), Oip.InferInput.class, "shape");
    }

    private TensorData readData(JsonParser p, DeserializationContext ctxt, JsonStreamContext owner, String name,
            List<Long> shape, String datatype) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        Optional<DType> dtype = Optional.ofNullable(datatype).flatMap(DType::fromOipName);
        long[] declared = concrete(shape);
        if (name == null || dtype.isEmpty() || declared == null) {
            return TensorData.buffered(p);
        }
        try {
            if (declared.length > 0 && declared[0] > maxBatch) {
                // Refused whatever the data holds; skipping it costs no memory.
                throw new InputValidationException(InputProblem.BATCH_TOO_LARGE, "expected at most " + maxBatch
                        + " instances (microkernel.serving.max-batch), found " + declared[0]);
            }
            // The pool BinaryTensors reads with; a mapper used on its own gives tensors that own their buffers.
            BufferPool buffers = ctxt.getAttribute(BufferPool.class) instanceof BufferPool pool ? pool : BufferPool.NONE;
            return TensorData.of(JsonTensorReader.readFlat(p, dtype.get(), declared, "input '" + name + "'", buffers));
        } catch (InputValidationException e) {
            // Leave the parser after the data, as if it had been read whole.
            while (p.getParsingContext() != owner) {
                p.nextToken();
            }
            return TensorData.failed(e);
        }
    }

    /** The declared shape when it can be read into directly; null sends the data to the buffer. */
    private static long[] concrete(List<Long> shape) {
        if (shape == null) {
            return null;
        }
        for (Long dim : shape) {
            if (dim == null || dim < 0) {
                return null;
            }
        }
        long[] dims = Shapes.toArray(shape);
        try {
            Shapes.elementCountInt(dims);
            return dims;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static <T> T read(JsonParser p, DeserializationContext ctxt, Class<T> type, String field) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        try {
            return ctxt.readValue(p, type);
        } catch (JsonMappingException e) {
            throw JsonMappingException.wrapWithPath(e, Oip.InferInput.class, field);
        }
    }

    private static <T> T read(JsonParser p, DeserializationContext ctxt, TypeReference<T> type, String field)
            throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        try {
            return ctxt.readValue(p, ctxt.getTypeFactory().constructType(type));
        } catch (JsonMappingException e) {
            throw JsonMappingException.wrapWithPath(e, Oip.InferInput.class, field);
        }
    }
}
