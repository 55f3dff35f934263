package io.microkernel.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.TensorData;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.Tensor;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Triton's binary tensor data extension over OIP v2 REST: a body may be a JSON header of
 * {@code Inference-Header-Content-Length} bytes followed by the tensors' raw little-endian bytes,
 * in input order, each input saying its size in {@code parameters.binary_data_size} (BYTES elements
 * each as a 4-byte little-endian length and then the bytes, as Triton sends them); outputs asked
 * for as binary ({@code binary_data}, {@code binary_data_output}) come back the same way. Without
 * the header the body is plain OIP JSON. Either way the JSON is read strictly: a top-level field
 * the protocol does not define is refused.
 *
 * <p>Stateless and thread-safe.
 */
final class BinaryTensors {

    static final String HEADER_LENGTH = "Inference-Header-Content-Length";
    /** Writes a tensor's elements flat; needs no serializer provider for a tensor. */
    private static final Oip.FlatElements FLAT = new Oip.FlatElements();

    private BinaryTensors() {
    }

    /** The request from a body received whole; its tensors own their buffers. */
    static Oip.InferRequest read(ObjectMapper json, byte[] body, String headerLength, String contentType) throws IOException {
        return read(json, body, headerLength, contentType, BufferPool.NONE);
    }

    /**
     * The request from a body received whole; binary inputs are read from {@code body} itself, not
     * copied. Its input tensors, JSON or binary, borrow their buffers from {@code buffers}: the caller
     * owns them and recycles them once nothing reads them ({@link io.microkernel.tensor.Tensor#recycle()}).
     */
    static Oip.InferRequest read(ObjectMapper json, byte[] body, String headerLength, String contentType, BufferPool buffers)
            throws IOException {
        if (headerLength == null) {
            if (contentType != null && !MediaType.valueOf(contentType).isCompatible(MediaType.APPLICATION_JSON_TYPE)) {
                throw new NotSupportedException("expected application/json, or a binary body with an " + HEADER_LENGTH
                        + " header, found " + contentType + " without that header");
            }
            Oip.InferRequest request = strict(json, body, 0, body.length, Oip.InferRequest.class, buffers);
            return attach(request, null, buffers);
        }
        int length = headerLengthValue(headerLength);
        if (body.length < length) {
            throw new InputValidationException(InputProblem.MALFORMED, "expected a JSON header of " + length
                    + " bytes (" + HEADER_LENGTH + "), found a body of " + body.length);
        }
        Oip.InferRequest request = strict(json, body, 0, length, Oip.InferRequest.class, buffers);
        return attach(request, ByteBuffer.wrap(body, length, body.length - length).slice().order(ByteOrder.LITTLE_ENDIAN), buffers);
    }

    /** Reads a request document, refusing top-level fields its type does not declare. */
    static <T> T strict(ObjectMapper json, byte[] document, Class<T> type) throws IOException {
        return strict(json, document, 0, document.length, type, BufferPool.NONE);
    }

    private static <T> T strict(ObjectMapper json, byte[] document, int offset, int length, Class<T> type, BufferPool buffers)
            throws IOException {
        return strictReader(json, type, buffers).readValue(document, offset, length);
    }

    /**
     * A strict reader per mapper, type and pool, made once: {@code readerFor(...).with(...)} builds two
     * readers per call. The pool rides along as the context attribute {@link InferInputReader} takes its buffers from.
     */
    private static final java.util.concurrent.ConcurrentMap<Class<?>, StrictReader> READERS = new java.util.concurrent.ConcurrentHashMap<>();

    private record StrictReader(ObjectMapper mapper, BufferPool buffers, ObjectReader reader) {
    }

    private static ObjectReader strictReader(ObjectMapper json, Class<?> type, BufferPool buffers) {
        StrictReader cached = READERS.get(type);
        if (cached == null || cached.mapper() != json || cached.buffers() != buffers) {
            // A different mapper or pool (tests build their own) replaces the entry; readers are immutable, so a race only costs a build.
            cached = new StrictReader(json, buffers, json.readerFor(type).with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .withAttribute(BufferPool.class, buffers));
            READERS.put(type, cached);
        }
        return cached.reader();
    }

    private static int headerLengthValue(String text) {
        try {
            int length = Integer.parseInt(text.trim());
            if (length >= 0) {
                return length;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new InputValidationException(InputProblem.MALFORMED,
                "expected " + HEADER_LENGTH + " to be a byte count, found '" + text + "'");
    }

    /** Gives every input with {@code binary_data_size} its slice of {@code binary}, in order; all bytes must be used. */
    private static Oip.InferRequest attach(Oip.InferRequest request, ByteBuffer binary, BufferPool buffers) {
        if (request == null || request.inputs() == null) {
            requireUsed(binary);
            return request == null ? new Oip.InferRequest(null, null, null, null) : request;
        }
        List<Oip.InferInput> inputs = new ArrayList<>(request.inputs().size());
        for (Oip.InferInput input : request.inputs()) {
            if (input == null || input.parameters() == null) {
                inputs.add(input);
                continue;
            }
            String what = "input '" + input.name() + "'";
            Oip.checkParameters(what, input.parameters(), Set.of(Oip.BINARY_DATA_SIZE));
            if (!input.parameters().containsKey(Oip.BINARY_DATA_SIZE)) {
                inputs.add(input);
                continue;
            }
            inputs.add(new Oip.InferInput(input.name(), input.shape(), input.datatype(),
                    slice(binary, input.parameters().get(Oip.BINARY_DATA_SIZE), input.data() != null, what, buffers), null));
        }
        requireUsed(binary);
        return new Oip.InferRequest(request.id(), inputs, request.outputs(), request.parameters());
    }

    private static TensorData slice(ByteBuffer binary, Object size, boolean hasJsonData, String what, BufferPool buffers) {
        if (binary == null) {
            throw new InputValidationException(InputProblem.MALFORMED, what + ": expected an " + HEADER_LENGTH
                    + " header with binary_data_size, found none");
        }
        if (hasJsonData) {
            throw new InputValidationException(InputProblem.MALFORMED,
                    what + ": expected either JSON data or binary_data_size, found both");
        }
        if (!(size instanceof Integer || size instanceof Long) || ((Number) size).longValue() < 0) {
            throw new InputValidationException(InputProblem.MALFORMED,
                    what + ": expected binary_data_size to be a byte count, found " + size);
        }
        long bytes = ((Number) size).longValue();
        if (bytes > binary.remaining()) {
            throw new InputValidationException(InputProblem.DATA_LENGTH_MISMATCH, what + ": expected " + bytes
                    + " bytes of binary data (binary_data_size), found " + binary.remaining() + " left in the body");
        }
        ByteBuffer data = binary.slice().limit((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        binary.position(binary.position() + (int) bytes);
        return (dtype, shape, name) -> {
            if (dtype.isString()) {
                return text(dtype, shape, data, name);
            }
            long expected = (long) io.microkernel.tensor.Shapes.elementCountInt(shape) * dtype.byteSize();
            if (expected != data.remaining()) {
                throw new InputValidationException(InputProblem.DATA_LENGTH_MISMATCH, name + ": shape "
                        + io.microkernel.tensor.Shapes.text(shape) + " of " + dtype.oipName() + " expected " + expected
                        + " bytes of binary data, found " + data.remaining());
            }
            Tensor tensor = Tensor.copyOf(dtype, shape, data, buffers);
            requireFinite(tensor, name);
            return tensor;
        };
    }

    /** BYTES as the extension sends them: per element a 4-byte little-endian length, then the bytes (UTF-8 text here). */
    private static Tensor text(io.microkernel.tensor.DType dtype, long[] shape, ByteBuffer data, String name) {
        try {
            return Tensor.copyOf(dtype, shape, data);
        } catch (IllegalArgumentException e) {
            throw new InputValidationException(InputProblem.MALFORMED, name + ": binary BYTES data of shape "
                    + io.microkernel.tensor.Shapes.text(shape) + ": " + e.getMessage());
        }
    }

    /** Binary floats are held to the rule JSON numbers are: finite. */
    private static void requireFinite(Tensor tensor, String what) {
        if (!tensor.dtype().isFloatingPoint()) {
            return;
        }
        for (int i = 0; i < tensor.elementCount(); i++) {
            double v = tensor.getDouble(i);
            if (!Double.isFinite(v)) {
                throw new InputValidationException(InputProblem.NOT_FINITE, what + " element " + i
                        + ": expected a finite " + tensor.dtype().oipName() + " value, found " + v);
            }
        }
    }

    private static void requireUsed(ByteBuffer binary) {
        if (binary != null && binary.hasRemaining()) {
            throw new InputValidationException(InputProblem.DATA_LENGTH_MISMATCH, "expected the binary data after the JSON header"
                    + " to be the sum of the inputs' binary_data_size, found " + binary.remaining() + " bytes more");
        }
    }

    /** The answer: plain JSON, or the JSON header and the binary outputs' bytes in output order. */
    static Response write(ObjectMapper json, Oip.InferResponse response) throws IOException {
        int binaryBytes = 0;
        for (Oip.InferOutput output : response.outputs()) {
            binaryBytes += output.binary() == null ? 0 : output.binary().length;
        }
        // Written in one pass into Jackson's recycled buffers, field by field as the records' annotations say,
        // rather than by the bean serializer, which reads every record component through reflection.
        ByteArrayBuilder bytes = new ByteArrayBuilder(json.getFactory()._getBufferRecycler(), 512);
        try {
            try (JsonGenerator gen = json.getFactory().createGenerator(bytes)) {
                writeHeader(gen, response);
            }
            int headerLength = bytes.size();
            if (binaryBytes == 0) {
                return Response.ok(bytes.toByteArray(), MediaType.APPLICATION_JSON_TYPE).build();
            }
            for (Oip.InferOutput output : response.outputs()) {
                if (output.binary() != null) {
                    bytes.write(output.binary());
                }
            }
            return Response.ok(bytes.toByteArray(), MediaType.APPLICATION_OCTET_STREAM_TYPE)
                    .header(HEADER_LENGTH, headerLength).build();
        } finally {
            // Hands the builder's block back to the recycler; ByteArrayBuilder.close() does not, so without
            // this every answer allocated a fresh 2 KB block.
            bytes.release();
        }
    }

    /**
     * The answer's JSON as {@link Oip.InferResponse} and {@link Oip.InferOutput} declare it: fields in
     * record order, null ones left out, a tensor's data flat as {@link Oip.FlatElements} writes it.
     */
    private static void writeHeader(JsonGenerator gen, Oip.InferResponse response) throws IOException {
        gen.writeStartObject();
        writeStringField(gen, "model_name", response.modelName());
        writeStringField(gen, "model_version", response.modelVersion());
        writeStringField(gen, "id", response.id());
        if (response.outputs() != null) {
            gen.writeArrayFieldStart("outputs");
            for (Oip.InferOutput output : response.outputs()) {
                gen.writeStartObject();
                writeStringField(gen, "name", output.name());
                writeStringField(gen, "datatype", output.datatype());
                if (output.shape() != null) {
                    gen.writeArrayFieldStart("shape");
                    for (Long dim : output.shape()) {
                        gen.writeNumber(dim);
                    }
                    gen.writeEndArray();
                }
                if (output.parameters() != null) {
                    gen.writeObjectField("parameters", output.parameters());
                }
                if (output.data() != null) {
                    gen.writeFieldName("data");
                    writeData(gen, output.data());
                }
                gen.writeEndObject();
            }
            gen.writeEndArray();
        }
        gen.writeEndObject();
    }

    private static void writeStringField(JsonGenerator gen, String name, String value) throws IOException {
        if (value != null) {
            gen.writeStringField(name, value);
        }
    }

    private static void writeData(JsonGenerator gen, Object data) throws IOException {
        if (data instanceof Tensor) {
            FLAT.serialize(data, gen, null);
        } else {
            gen.writeObject(data);
        }
    }
}
