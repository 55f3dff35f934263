package io.microkernel.compiler;

import io.microkernel.artifacts.Onnx;
import static io.microkernel.artifacts.Onnx.attr;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.microkernel.compiler.ShapeOracle.TensorType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode differentiation of a forward ONNX graph, written out as ordinary ONNX nodes.
 *
 * <p>Only the nodes between a trainable parameter and the differentiated tensor need gradients; every
 * other node (a frozen backbone) may use any operator. The supported operators are those of
 * {@link #SUPPORTED}; anything else on the trainable path is reported with the node and operator names.
 */
public final class Autodiff {

    /** Operators whose gradients this class writes. */
    public static final Set<String> SUPPORTED = Set.of(
            "Gemm", "MatMul", "Conv", "Add", "Sub", "Mul", "Div", "Neg", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp",
            "Identity", "Dropout", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Softmax", "LogSoftmax");

    private final ShapeOracle shapes;
    /** Tensors that depend on a parameter, so their gradients are wanted. */
    private final Set<String> needs = new HashSet<>();
    private final GraphEmitter out;
    private final Map<String, List<String>> contributions = new HashMap<>();
    /** One ConvGrad node serves all inputs of a Conv; its outputs by Conv node. */
    private final Map<NodeProto, String[]> convGradients = new java.util.IdentityHashMap<>();

    private Autodiff(ShapeOracle shapes, GraphEmitter out) {
        this.shapes = shapes;
        this.out = out;
    }

    /**
     * Writes the gradient of {@code target} with respect to each parameter.
     *
     * @param nodes      the forward nodes in topological order
     * @param parameters the tensors to differentiate for
     * @param target     the tensor whose gradient is {@code targetGrad}
     * @param targetGrad the name of the gradient of {@code target} (already produced by loss nodes)
     * @return parameter name to the name of its gradient tensor, in {@code parameters} order
     * @throws GraphException for an unsupported operator on the trainable path, or a parameter that does
     *                        not influence {@code target}
     */
    public static Map<String, String> gradients(List<NodeProto> nodes, Collection<String> parameters, String target,
            String targetGrad, ShapeOracle shapes, GraphEmitter out) {
        return new Autodiff(shapes, out).run(nodes, parameters, target, targetGrad);
    }

    private Map<String, String> run(List<NodeProto> nodes, Collection<String> parameters, String target, String targetGrad) {
        needs.addAll(parameters);
        for (NodeProto node : nodes) {
            if (node.getInputList().stream().anyMatch(needs::contains)) {
                for (String o : node.getOutputList()) {
                    if (!o.isEmpty() && isFloat(o)) {
                        needs.add(o);
                    }
                }
            }
        }
        Set<String> reaches = new HashSet<>(Set.of(target));
        for (int i = nodes.size() - 1; i >= 0; i--) {
            NodeProto node = nodes.get(i);
            if (node.getOutputList().stream().anyMatch(reaches::contains)) {
                node.getInputList().stream().filter(s -> !s.isEmpty()).forEach(reaches::add);
            }
        }
        contributions.put(target, new ArrayList<>(List.of(targetGrad)));
        for (int i = nodes.size() - 1; i >= 0; i--) {
            NodeProto node = nodes.get(i);
            boolean feedsTarget = node.getOutputList().stream().anyMatch(o -> reaches.contains(o) && needs.contains(o));
            List<Integer> wanted = new ArrayList<>();
            for (int k = 0; k < node.getInputCount(); k++) {
                String in = node.getInput(k);
                if (!in.isEmpty() && needs.contains(in)) {
                    wanted.add(k);
                }
            }
            if (!feedsTarget || wanted.isEmpty()) {
                continue;
            }
            if (!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx") || !SUPPORTED.contains(node.getOpType())) {
                throw new GraphException("node " + Onnx.describe(node) + ": operator "
                        + (node.getDomain().isEmpty() ? "" : node.getDomain() + ".") + node.getOpType()
                        + " is on the trainable path but has no gradient here; supported: " + String.join(", ", sorted(SUPPORTED))
                        + "; freeze the parameters before it");
            }
            String gy = total(node.getOutput(0));
            if (gy == null) {
                throw new GraphException("node " + Onnx.describe(node) + ": only the first output of "
                        + node.getOpType() + " can carry gradients on the trainable path");
            }
            for (int k : wanted) {
                String g = inputGradient(node, k, gy);
                contributions.computeIfAbsent(node.getInput(k), x -> new ArrayList<>()).add(g);
            }
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (String p : parameters) {
            String g = total(p);
            if (g == null) {
                throw new GraphException("trainable parameter '" + p + "' does not influence '" + target
                        + "'; freeze it or choose another output");
            }
            result.put(p, g);
        }
        return result;
    }

    private static List<String> sorted(Set<String> s) {
        return s.stream().sorted().toList();
    }

    private boolean isFloat(String tensor) {
        return shapes.type(tensor).map(t -> t.elemType() == Onnx.FLOAT).orElse(false);
    }

    /** The summed gradient of a tensor, or null when nothing downstream produced one. */
    private String total(String tensor) {
        List<String> parts = contributions.get(tensor);
        if (parts == null || parts.isEmpty()) {
            return null;
        }
        if (parts.size() > 1) {
            String sum = out.emit("Sum", List.copyOf(parts));
            parts.clear();
            parts.add(sum);
        }
        return parts.get(0);
    }

    private long[] dims(NodeProto node, String tensor) {
        TensorType t = shapes.type(tensor).orElseThrow(() -> new GraphException("node " + Onnx.describe(node)
                + ": the shape of '" + tensor + "' is unknown, so its gradient cannot be written"));
        return t.dims();
    }

    private String inputGradient(NodeProto n, int k, String gy) {
        return switch (n.getOpType()) {
            case "Gemm" -> gemm(n, k, gy);
            case "MatMul" -> matMul(n, k, gy);
            case "Conv" -> conv(n, k, gy);
            case "Add", "Sub", "Mul", "Div", "Neg" -> arithmetic(n, k, gy);
            case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp" -> activation(n, gy);
            case "Identity", "Dropout" -> gy;
            case "Flatten", "Reshape", "Squeeze", "Unsqueeze" ->
                    out.emit("Reshape", List.of(gy, out.emit("Shape", List.of(n.getInput(k)))));
            case "Transpose" -> transpose(n, k, gy);
            case "Softmax", "LogSoftmax" -> softmax(n, gy);
            default -> throw new IllegalStateException(n.getOpType());
        };
    }

    /** Element-wise arithmetic; broadcast inputs get their gradient summed back to their own shape. */
    private String arithmetic(NodeProto n, int k, String gy) {
        String x = n.getInput(k);
        String y = n.getOutput(0);
        switch (n.getOpType()) {
            case "Add":
                return reduceTo(n, gy, dims(n, y), x);
            case "Sub":
                return k == 0 ? reduceTo(n, gy, dims(n, y), x) : out.emit("Neg", List.of(reduceTo(n, gy, dims(n, y), x)));
            case "Mul":
                return reduceTo(n, out.emit("Mul", List.of(gy, n.getInput(1 - k))), dims(n, y), x);
            case "Div":
                if (k == 0) {
                    return reduceTo(n, out.emit("Div", List.of(gy, n.getInput(1))), dims(n, y), x);
                }
                // d(a/b)/db = -(a/b)/b
                String t = out.emit("Div", List.of(out.emit("Mul", List.of(gy, y)), n.getInput(1)));
                return reduceTo(n, out.emit("Neg", List.of(t)), dims(n, y), x);
            case "Neg":
                return out.emit("Neg", List.of(gy));
            default:
                throw new IllegalStateException(n.getOpType());
        }
    }

    /** Element-wise activations, written with their input {@code x} or their output {@code y}. */
    private String activation(NodeProto n, String gy) {
        String x = n.getInput(0);
        String y = n.getOutput(0);
        switch (n.getOpType()) {
            case "Relu":
                return out.emit("Where", List.of(out.emit("Greater", List.of(x, out.scalar(0f))), gy, out.scalar(0f)));
            case "LeakyRelu": {
                float alpha = Onnx.floatAttr(n, "alpha", 0.01f);
                String negative = out.emit("Mul", List.of(gy, out.scalar(alpha)));
                return out.emit("Where", List.of(out.emit("Greater", List.of(x, out.scalar(0f))), gy, negative));
            }
            case "Sigmoid": {
                String oneMinus = out.emit("Sub", List.of(out.scalar(1f), y));
                return out.emit("Mul", List.of(gy, out.emit("Mul", List.of(y, oneMinus))));
            }
            case "Tanh": {
                String oneMinus = out.emit("Sub", List.of(out.scalar(1f), out.emit("Mul", List.of(y, y))));
                return out.emit("Mul", List.of(gy, oneMinus));
            }
            case "Exp":
                return out.emit("Mul", List.of(gy, y));
            default:
                throw new IllegalStateException(n.getOpType());
        }
    }

    private String transpose(NodeProto n, int k, String gy) {
        int rank = dims(n, n.getInput(k)).length;
        long[] perm = Onnx.intsAttr(n, "perm").orElseGet(() -> {
            long[] reversed = new long[rank];
            for (int i = 0; i < rank; i++) {
                reversed[i] = rank - 1 - i;
            }
            return reversed;
        });
        long[] inverse = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
            inverse[(int) perm[i]] = i;
        }
        return out.emit("Transpose", List.of(gy), attr("perm", inverse));
    }

    private String softmax(NodeProto n, String gy) {
        String y = n.getOutput(0);
        long axis = Onnx.intAttr(n, "axis", -1);
        if (n.getOpType().equals("Softmax")) {
            String dot = out.emit("ReduceSum", List.of(out.emit("Mul", List.of(gy, y)), out.ints(axis)),
                    attr("keepdims", 1L));
            return out.emit("Mul", List.of(y, out.emit("Sub", List.of(gy, dot))));
        }
        String sum = out.emit("ReduceSum", List.of(gy, out.ints(axis)), attr("keepdims", 1L));
        return out.emit("Sub", List.of(gy, out.emit("Mul", List.of(out.emit("Exp", List.of(y)), sum))));
    }

    private String gemm(NodeProto n, int k, String gy) {
        float alpha = Onnx.floatAttr(n, "alpha", 1f);
        float beta = Onnx.floatAttr(n, "beta", 1f);
        long transA = Onnx.intAttr(n, "transA", 0);
        long transB = Onnx.intAttr(n, "transB", 0);
        String a = n.getInput(0);
        String b = n.getInput(1);
        switch (k) {
            case 0:
                // dA' = alpha * dY * op(B)^T, transposed back when A was transposed.
                if (transA == 0) {
                    return out.emit("Gemm", List.of(gy, b), attr("alpha", alpha), attr("transB", 1 - transB));
                }
                return out.emit("Gemm", List.of(b, gy), attr("alpha", alpha), attr("transA", transB), attr("transB", 1L));
            case 1:
                // dB' = alpha * op(A)^T * dY, transposed back when B was transposed.
                if (transB == 0) {
                    return out.emit("Gemm", List.of(a, gy), attr("alpha", alpha), attr("transA", 1 - transA));
                }
                return out.emit("Gemm", List.of(gy, a), attr("alpha", alpha), attr("transA", 1L), attr("transB", transA));
            default: {
                String reduced = reduceTo(n, gy, dims(n, n.getOutput(0)), n.getInput(2));
                return beta == 1f ? reduced : out.emit("Mul", List.of(reduced, out.scalar(beta)));
            }
        }
    }

    /**
     * The gradients of a Conv come from ONNX Runtime's training operator {@code com.microsoft.ConvGrad}
     * (inputs dY, X, W; outputs dX, dW, dB; the forward node's attributes), written once per Conv for
     * whichever of its inputs need a gradient; the outputs nobody needs are left unnamed so the kernel
     * skips them.
     */
    private String conv(NodeProto n, int k, String gy) {
        String[] grads = convGradients.computeIfAbsent(n, node -> {
            boolean[] wanted = new boolean[3];
            for (int i = 0; i < node.getInputCount() && i < 3; i++) {
                String in = node.getInput(i);
                wanted[i] = !in.isEmpty() && needs.contains(in);
            }
            String[] names = new String[3];
            for (int i = 0; i < 3; i++) {
                names[i] = wanted[i] ? out.fresh(node.getInput(i) + "_grad") : "";
            }
            if (dims(node, node.getInput(0)).length != 4) {
                throw new GraphException("node " + Onnx.describe(node)
                        + ": only 2-D Conv (a rank-4 input) is supported on the trainable path");
            }
            out.emitMulti(Onnx.MICROSOFT, "ConvGrad", List.of(gy, node.getInput(0), node.getInput(1)),
                    trimTrailingEmpty(names), node.getAttributeList().toArray(ai.onnx.proto.OnnxMl.AttributeProto[]::new));
            return names;
        });
        return grads[k];
    }

    private static List<String> trimTrailingEmpty(String[] names) {
        int end = names.length;
        while (end > 0 && names[end - 1].isEmpty()) {
            end--;
        }
        return List.of(names).subList(0, end);
    }

    private String matMul(NodeProto n, int k, String gy) {
        long[] a = dims(n, n.getInput(0));
        long[] b = dims(n, n.getInput(1));
        long[] y = dims(n, n.getOutput(0));
        if (a.length < 2 || b.length < 2) {
            throw new GraphException("node " + Onnx.describe(n) + ": MatMul with a 1-D operand is not supported on the trainable path");
        }
        if (k == 0) {
            String bt = out.emit("Transpose", List.of(n.getInput(1)), attr("perm", swapLast(b.length)));
            String g = out.emit("MatMul", List.of(gy, bt));
            long[] gDims = y.clone();
            gDims[gDims.length - 1] = a[a.length - 1];
            return reduceTo(n, g, gDims, n.getInput(0));
        }
        String at = out.emit("Transpose", List.of(n.getInput(0)), attr("perm", swapLast(a.length)));
        String g = out.emit("MatMul", List.of(at, gy));
        long[] gDims = y.clone();
        gDims[gDims.length - 2] = b[b.length - 2];
        return reduceTo(n, g, gDims, n.getInput(1));
    }

    private static long[] swapLast(int rank) {
        long[] perm = new long[rank];
        for (int i = 0; i < rank; i++) {
            perm[i] = i;
        }
        perm[rank - 1] = rank - 2;
        perm[rank - 2] = rank - 1;
        return perm;
    }

    /**
     * Sums a gradient of shape {@code gDims} down to the shape of {@code target}, undoing numpy-style
     * broadcasting: leading extra axes and axes where the target has size 1.
     */
    private String reduceTo(NodeProto n, String g, long[] gDims, String target) {
        long[] t = dims(n, target);
        int extra = gDims.length - t.length;
        if (extra < 0) {
            throw new GraphException("node " + Onnx.describe(n) + ": cannot reduce a gradient of rank " + gDims.length
                    + " to '" + target + "' of rank " + t.length);
        }
        List<Long> axes = new ArrayList<>();
        for (int i = 0; i < extra; i++) {
            axes.add((long) i);
        }
        for (int i = 0; i < t.length; i++) {
            if (t[i] == 1 && gDims[extra + i] != 1) {
                axes.add((long) (extra + i));
            }
        }
        if (axes.isEmpty()) {
            return g;
        }
        String reduced = out.emit("ReduceSum", List.of(g, out.ints(axes.stream().mapToLong(Long::longValue).toArray())),
                attr("keepdims", 1L));
        if (extra == 0) {
            return reduced;
        }
        return out.emit("Reshape", List.of(reduced, out.emit("Shape", List.of(target))));
    }
}
