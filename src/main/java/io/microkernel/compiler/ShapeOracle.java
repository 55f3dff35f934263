package io.microkernel.compiler;

import io.microkernel.artifacts.Onnx;
import io.microkernel.runtime.OrtSessions;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Element types and shapes of every tensor of a model, as ONNX Runtime's own type and shape inference
 * sees them.
 *
 * <p>Gradients need ranks and static dims (transposes, broadcast reductions). Rather than re-implement
 * shape inference for every operator, the model is loaded once with every intermediate tensor declared
 * as an untyped graph output; ONNX Runtime infers their types and reports them.
 */
public final class ShapeOracle {

    /** Element type (ONNX number) and dims ({@code -1} = dynamic) of one tensor. */
    public record TensorType(int elemType, long[] dims) {
        public int rank() {
            return dims.length;
        }

        public boolean isStatic() {
            for (long d : dims) {
                if (d < 0) {
                    return false;
                }
            }
            return true;
        }
    }

    private final Map<String, TensorType> types;

    private ShapeOracle(Map<String, TensorType> types) {
        this.types = types;
    }

    /**
     * Infers the types of every tensor of {@code model}.
     *
     * @throws IllegalArgumentException with ONNX Runtime's message when the model does not load
     */
    public static ShapeOracle of(OrtEnvironment env, ModelProto model) {
        Map<String, TensorType> types = new HashMap<>();
        GraphProto graph = model.getGraph();
        for (TensorProto init : graph.getInitializerList()) {
            types.put(init.getName(), new TensorType(init.getDataType(), Onnx.dims(init)));
        }
        for (ValueInfoProto info : graph.getInputList()) {
            Onnx.dims(info).ifPresent(d -> types.putIfAbsent(info.getName(), new TensorType(Onnx.elemType(info), d)));
        }
        Set<String> known = new HashSet<>(types.keySet());
        GraphProto.Builder probe = graph.toBuilder().clearOutput().clearValueInfo();
        Set<String> declared = new HashSet<>();
        for (NodeProto node : graph.getNodeList()) {
            for (String out : node.getOutputList()) {
                if (!out.isEmpty() && !known.contains(out) && declared.add(out)) {
                    probe.addOutput(ValueInfoProto.newBuilder().setName(out));
                }
            }
        }
        ModelProto probeModel = model.toBuilder().setGraph(probe).build();
        try (OrtSession.SessionOptions options = OrtSessions.options(1, 1)) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession session = env.createSession(probeModel.toByteArray(), options)) {
                for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
                    if (e.getValue().getInfo() instanceof TensorInfo t) {
                        types.put(e.getKey(), new TensorType(onnxCode(t.onnxType), t.getShape()));
                    }
                }
            }
        } catch (OrtException e) {
            throw new IllegalArgumentException(e.getMessage().lines().findFirst().orElse(e.getMessage()), e);
        }
        return new ShapeOracle(types);
    }

    /** The ONNX {@code TensorProto.DataType} number; the Java enum numbers its constants differently. */
    static int onnxCode(TensorInfo.OnnxTensorType type) {
        String name = type.name().substring("ONNX_TENSOR_ELEMENT_DATA_TYPE_".length());
        try {
            return ai.onnx.proto.OnnxMl.TensorProto.DataType.valueOf(name).getNumber();
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }

    public Optional<TensorType> type(String tensor) {
        return Optional.ofNullable(types.get(tensor));
    }
}
