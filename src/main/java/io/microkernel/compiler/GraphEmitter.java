package io.microkernel.compiler;

import io.microkernel.artifacts.Onnx;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Collects the nodes and constant initializers added to a graph, giving every new tensor and node a
 * name that collides with nothing in the source model.
 */
public final class GraphEmitter {

    private final Set<String> used = new HashSet<>();
    private final List<NodeProto> nodes = new ArrayList<>();
    private final List<TensorProto> initializers = new ArrayList<>();
    private final Map<String, String> constants = new HashMap<>();

    /** @param taken every tensor and node name already in use */
    public GraphEmitter(Collection<String> taken) {
        used.addAll(taken);
    }

    /** {@code base} itself when free, else {@code base_1}, {@code base_2}... */
    public String fresh(String base) {
        if (used.add(base)) {
            return base;
        }
        for (int i = 1; ; i++) {
            String candidate = base + "_" + i;
            if (used.add(candidate)) {
                return candidate;
            }
        }
    }

    /** Reserves a name that the artifact format fixes; it must be free. */
    public String reserve(String name) {
        if (!used.add(name)) {
            throw new GraphException("the model already uses the name '" + name + "', which training artifacts reserve");
        }
        return name;
    }

    /** Adds a default-domain node with one output and returns the output's name. */
    public String emit(String opType, List<String> inputs, AttributeProto... attributes) {
        return emitTo("", opType, inputs, fresh(baseName(inputs) + "_" + opType), attributes);
    }

    /** Adds a node writing to a given output name. */
    public String emitTo(String domain, String opType, List<String> inputs, String output, AttributeProto... attributes) {
        nodes.add(Onnx.node(domain, opType, fresh("grad/" + opType), inputs, List.of(output), attributes));
        return output;
    }

    /** Adds a node with several outputs (already named). */
    public void emitMulti(String domain, String opType, List<String> inputs, List<String> outputs,
            AttributeProto... attributes) {
        nodes.add(Onnx.node(domain, opType, fresh(opType), inputs, outputs, attributes));
    }

    private static String baseName(List<String> inputs) {
        return inputs.isEmpty() || inputs.get(0).isEmpty() ? "t" : inputs.get(0);
    }

    /** A scalar float constant, shared between uses. */
    public String scalar(float value) {
        return constants.computeIfAbsent("f:" + Float.floatToIntBits(value), k -> {
            String name = fresh("const_" + Float.toString(value).replace('-', 'm'));
            initializers.add(Onnx.scalarFloat(name, value));
            return name;
        });
    }

    /** An int64 vector constant, shared between uses. */
    public String ints(long... values) {
        return constants.computeIfAbsent("i:" + Arrays.toString(values), k -> {
            String name = fresh("const_ints");
            initializers.add(Onnx.int64Vector(name, values));
            return name;
        });
    }

    /** Adds an initializer under a reserved or fresh name. */
    public void initializer(TensorProto tensor) {
        initializers.add(tensor);
    }

    public List<NodeProto> nodes() {
        return List.copyOf(nodes);
    }

    public List<TensorProto> initializers() {
        return List.copyOf(initializers);
    }
}
