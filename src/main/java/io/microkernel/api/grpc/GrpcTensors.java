package io.microkernel.api.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import io.microkernel.api.grpc.proto.InferParameter;
import io.microkernel.api.grpc.proto.InferTensorContents;
import io.microkernel.api.grpc.proto.ModelInferRequest;
import io.microkernel.api.grpc.proto.ModelInferResponse;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.TensorData;
import io.microkernel.serving.TensorInput;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Translation between {@code ModelInferRequest}/{@code ModelInferResponse} and the domain. Inputs
 * become {@link TensorInput}s whose data {@code serving.RequestTranslator} reads only after it has
 * checked name, datatype and shape, exactly as for a REST request: from {@code raw_input_contents}
 * (packed, little-endian, copied once into the tensor's buffer; BYTES as 4-byte length-prefixed
 * elements) or from the typed {@code contents}, into buffers borrowed from the request pool, which
 * the service gives back once the answer is built. Outputs go back raw when the request came raw, as Triton answers, else typed.
 *
 * <p>Stateless and thread-safe.
 */
final class GrpcTensors {

    /**
     * Parameters of the REST binary tensor extension that some clients (KServe's) also put on gRPC
     * tensors; over gRPC they say nothing the message does not, so they are ignored, not refused.
     */
    private static final Set<String> TRANSPORT_HINTS = Set.of("binary_data_size", "binary_data", "binary_data_output");

    private GrpcTensors() {
    }

    /**
     * The request's inputs, in request order, with their data still to be read into buffers
     * borrowed from {@code pool}; the caller owns the tensors read and recycles them.
     */
    static List<TensorInput> inputs(ModelInferRequest request, BufferPool pool) {
        refuseParameters("the request", request.getParametersMap());
        boolean raw = request.getRawInputContentsCount() > 0;
        if (raw && request.getRawInputContentsCount() != request.getInputsCount()) {
            throw malformed("expected one raw_input_contents entry per input (" + request.getInputsCount()
                    + "), found " + request.getRawInputContentsCount());
        }
        List<TensorInput> inputs = new ArrayList<>(request.getInputsCount());
        for (int i = 0; i < request.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor input = request.getInputs(i);
            String what = "input '" + input.getName() + "'";
            refuseParameters(what, input.getParametersMap());
            if (raw && input.hasContents()) {
                throw malformed(what + ": expected contents or raw_input_contents, found both");
            }
            TensorData data = raw ? raw(request.getRawInputContents(i), pool)
                    : input.hasContents() ? typed(input.getContents(), pool) : null;
            inputs.add(new TensorInput(emptyAsNull(input.getName()), input.getShapeList(),
                    emptyAsNull(input.getDatatype()), data));
        }
        return inputs;
    }

    /** The names of the outputs the request asks for; empty for all. */
    static List<String> requestedOutputs(ModelInferRequest request) {
        List<String> names = new ArrayList<>();
        for (ModelInferRequest.InferRequestedOutputTensor output : request.getOutputsList()) {
            refuseParameters("requested output '" + output.getName() + "'", output.getParametersMap());
            names.add(output.getName());
        }
        return names;
    }

    /**
     * The answer: the model's outputs (those requested, in the model's order), raw when
     * {@code raw} or when an output's datatype has no typed field, else typed.
     *
     * @throws InputValidationException when a requested output is not one of the model's
     */
    static ModelInferResponse response(String model, String id, Prediction prediction, List<String> requested, boolean raw) {
        List<NamedTensor> outputs = selected(prediction.outputs(), requested);
        boolean packed = raw || outputs.stream()
                .anyMatch(o -> ContentsField.forDatatype(o.tensor().dtype().oipName()).isEmpty());
        ModelInferResponse.Builder answer = ModelInferResponse.newBuilder()
                .setModelName(model)
                .setModelVersion(Integer.toString(prediction.version()))
                .setId(id);
        for (NamedTensor output : outputs) {
            Tensor tensor = output.tensor();
            ModelInferResponse.InferOutputTensor.Builder out = answer.addOutputsBuilder()
                    .setName(output.name())
                    .setDatatype(tensor.dtype().oipName())
                    .addAllShape(Shapes.toList(tensor.shape()));
            if (packed) {
                answer.addRawOutputContents(littleEndian(tensor));
            } else {
                ContentsField.forDatatype(tensor.dtype().oipName()).orElseThrow().write(tensor, out.getContentsBuilder());
            }
        }
        return answer.build();
    }

    private static List<NamedTensor> selected(List<NamedTensor> outputs, List<String> requested) {
        if (requested.isEmpty()) {
            return outputs;
        }
        Set<String> available = outputs.stream().map(NamedTensor::name).collect(Collectors.toCollection(LinkedHashSet::new));
        for (String name : requested) {
            if (!available.contains(name)) {
                throw new InputValidationException(InputProblem.UNKNOWN_INPUT,
                        "expected requested outputs among " + available + ", found '" + name + "'");
            }
        }
        return outputs.stream().filter(o -> requested.contains(o.name())).toList();
    }

    /** Data packed as the protocol sends it (row-major, little-endian, no padding), read into a buffer borrowed from {@code pool}. */
    static TensorData raw(ByteString bytes, BufferPool pool) {
        return (dtype, shape, what) -> {
            if (dtype.isString()) {
                try {
                    // Per element a 4-byte little-endian length and then the bytes, as Triton packs BYTES.
                    return Tensor.copyOf(dtype, shape, bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
                } catch (IllegalArgumentException e) {
                    throw malformed(what + ": raw_input_contents of BYTES shape " + Shapes.text(shape) + ": " + e.getMessage());
                }
            }
            long expected = Shapes.elementCount(shape) * dtype.byteSize();
            if (bytes.size() != expected) {
                throw new InputValidationException(InputProblem.DATA_LENGTH_MISMATCH, what + ": shape " + Shapes.text(shape)
                        + " of " + dtype.oipName() + " expected " + expected + " bytes of raw_input_contents, found "
                        + bytes.size());
            }
            return requireFinite(Tensor.copyOf(dtype, shape, bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN), pool), what);
        };
    }

    /**
     * Data in the typed field of {@code contents} that the datatype the model takes calls for, read
     * into a buffer borrowed from {@code pool}.
     */
    static TensorData typed(InferTensorContents contents, BufferPool pool) {
        return (dtype, shape, what) -> {
            ContentsField field = ContentsField.forDatatype(dtype.oipName()).orElseThrow(() -> malformed(what
                    + ": expected raw_input_contents for datatype " + dtype.oipName() + ", which has no typed field, found contents"));
            for (Descriptors.FieldDescriptor set : contents.getAllFields().keySet()) {
                if (!set.getName().equals(field.protoName())) {
                    throw new InputValidationException(InputProblem.WRONG_DATATYPE, what + ": expected contents."
                            + field.protoName() + " for datatype " + dtype.oipName() + ", found contents." + set.getName());
                }
            }
            int values = Shapes.elementCountInt(shape);
            if (field.count(contents) != values) {
                throw new InputValidationException(InputProblem.DATA_LENGTH_MISMATCH, what + ": shape " + Shapes.text(shape)
                        + " expected " + values + " values in contents." + field.protoName() + ", found "
                        + field.count(contents));
            }
            // Counted first, so a request refused for its count borrows nothing.
            Tensor.Builder out = Tensor.builder(dtype, pool, shape);
            try {
                field.fill(contents, out);
            } catch (IllegalArgumentException e) {
                throw new InputValidationException(InputProblem.WRONG_DATATYPE, what + " " + e.getMessage());
            }
            return requireFinite(out.build(), what);
        };
    }

    /** Refuses NaN and infinities, as the JSON path does. */
    private static Tensor requireFinite(Tensor tensor, String what) {
        if (tensor.dtype().isFloatingPoint()) {
            int n = tensor.elementCount();
            for (int i = 0; i < n; i++) {
                double v = tensor.getDouble(i);
                if (!Double.isFinite(v)) {
                    String type = tensor.dtype().oipName();
                    // Refused before anyone else saw it: its buffer goes straight back.
                    tensor.recycle();
                    throw new InputValidationException(InputProblem.NOT_FINITE, what + " element " + i
                            + ": expected a finite " + type + " value, found " + v);
                }
            }
        }
        return tensor;
    }

    /** The tensor's elements packed little-endian, as {@code raw_output_contents} carries them. */
    static ByteString littleEndian(Tensor tensor) {
        if (tensor.dtype().isString()) {
            return ByteString.copyFrom(tensor.toBytes(ByteOrder.LITTLE_ENDIAN));
        }
        ByteBuffer bytes = tensor.bytes();
        if (bytes.order() == ByteOrder.LITTLE_ENDIAN) {
            return ByteString.copyFrom(bytes);
        }
        DType dtype = tensor.dtype();
        ByteBuffer little = ByteBuffer.allocate(bytes.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < tensor.elementCount(); i++) {
            if (dtype.isFloatingPoint()) {
                dtype.putDouble(little, i, tensor.getDouble(i));
            } else {
                dtype.putLong(little, i, tensor.getLong(i));
            }
        }
        return ByteString.copyFrom(little.array());
    }

    private static void refuseParameters(String what, Map<String, InferParameter> parameters) {
        List<String> unknown = parameters.keySet().stream().filter(k -> !TRANSPORT_HINTS.contains(k)).sorted().toList();
        if (!unknown.isEmpty()) {
            throw malformed(what + ": expected no parameters (none is supported over gRPC), found " + unknown);
        }
    }

    private static InputValidationException malformed(String detail) {
        return new InputValidationException(InputProblem.MALFORMED, detail);
    }

    private static String emptyAsNull(String text) {
        return text.isEmpty() ? null : text;
    }
}
