package io.microkernel.artifacts;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The element types of a graph's tensors, as far as declarations and a few operator rules tell:
 * inputs, initializers and value infos first, then each node's outputs take the type of its first
 * typed input unless the operator fixes it (comparisons give bool, {@code Shape} gives int64,
 * {@code Cast} its {@code to}). ORT needs the element type of every graph output it is given.
 */
final class ElemTypes {

    private static final Set<String> BOOL_OPS = Set.of("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual",
            "Not", "And", "Or", "Xor", "IsNaN", "IsInf");
    private static final Set<String> INT64_OPS = Set.of("Shape", "Size", "ArgMax", "ArgMin", "NonZero", "TopK");

    private final Map<String, Integer> types = new HashMap<>();

    ElemTypes(GraphProto graph) {
        graph.getInputList().forEach(this::declare);
        graph.getValueInfoList().forEach(this::declare);
        graph.getOutputList().forEach(this::declare);
        for (TensorProto t : graph.getInitializerList()) {
            types.put(t.getName(), t.getDataType());
        }
        for (NodeProto node : graph.getNodeList()) {
            infer(node);
        }
    }

    /** The element type of {@code tensor}; float when nothing tells. */
    int of(String tensor) {
        return types.getOrDefault(tensor, Onnx.FLOAT);
    }

    private void declare(ValueInfoProto info) {
        int type = Onnx.elemType(info);
        if (type != 0) {
            types.put(info.getName(), type);
        }
    }

    private void infer(NodeProto node) {
        Integer type;
        if (node.getOpType().equals("Cast")) {
            type = (int) Onnx.intAttr(node, "to", Onnx.FLOAT);
        } else if (BOOL_OPS.contains(node.getOpType())) {
            type = Onnx.BOOL;
        } else if (INT64_OPS.contains(node.getOpType())) {
            type = Onnx.INT64;
        } else {
            type = node.getInputList().stream().filter(types::containsKey).map(types::get).findFirst().orElse(null);
        }
        if (type == null) {
            return;
        }
        for (int i = 0; i < node.getOutputCount(); i++) {
            // TopK's first output keeps the input type; only its indices are int64.
            int t = node.getOpType().equals("TopK") && i == 0
                    ? node.getInputList().stream().filter(types::containsKey).map(types::get).findFirst()
                            .orElse(Onnx.FLOAT)
                    : type;
            types.putIfAbsent(node.getOutput(i), t);
        }
    }
}
