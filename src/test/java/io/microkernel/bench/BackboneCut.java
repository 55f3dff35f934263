package io.microkernel.bench;

import ai.onnx.proto.OnnxMl;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Cuts an inference graph at the head's input: what remains is the frozen backbone, whose outputs
 * are the features the trainable head reads.
 *
 * <p>The head is every node that depends, directly or through other nodes, on a trainable
 * initializer. The cut tensors are the head's inputs that the backbone produces.
 */
final class BackboneCut {

    private BackboneCut() {
    }

    /** The backbone-only model and the tensors it ends at (empty when the head reads the graph inputs). */
    record Cut(OnnxMl.ModelProto backbone, List<String> cutTensors, int backboneNodes, int headNodes) {
    }

    static Cut cut(OnnxMl.ModelProto inference, Set<String> trainable) {
        OnnxMl.GraphProto graph = inference.getGraph();
        Set<String> dependsOnTrainable = new HashSet<>(trainable);
        Set<OnnxMl.NodeProto> head = new LinkedHashSet<>();
        // ONNX nodes are stored in topological order, so one forward pass propagates the dependency.
        for (OnnxMl.NodeProto node : graph.getNodeList()) {
            if (node.getInputList().stream().anyMatch(dependsOnTrainable::contains)) {
                head.add(node);
                dependsOnTrainable.addAll(node.getOutputList());
            }
        }
        if (head.isEmpty()) {
            throw new IllegalArgumentException("no node of the inference graph reads a trainable parameter " + trainable);
        }
        Set<String> initializers = graph.getInitializerList().stream().map(OnnxMl.TensorProto::getName)
                .collect(Collectors.toSet());
        Set<String> graphInputs = graph.getInputList().stream().map(OnnxMl.ValueInfoProto::getName)
                .collect(Collectors.toSet());
        Set<String> producedByBackbone = new HashSet<>();
        for (OnnxMl.NodeProto node : graph.getNodeList()) {
            if (!head.contains(node)) {
                producedByBackbone.addAll(node.getOutputList());
            }
        }
        List<String> cutTensors = new ArrayList<>();
        for (OnnxMl.NodeProto node : head) {
            for (String input : node.getInputList()) {
                if (producedByBackbone.contains(input) && !cutTensors.contains(input)) {
                    cutTensors.add(input);
                }
            }
        }
        if (cutTensors.isEmpty()) {
            return new Cut(null, cutTensors, 0, head.size());
        }

        // Keep only the backbone nodes the cut tensors need.
        Map<String, OnnxMl.NodeProto> producer = graph.getNodeList().stream()
                .flatMap(node -> node.getOutputList().stream().map(output -> Map.entry(output, node)))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a));
        Set<OnnxMl.NodeProto> needed = new HashSet<>();
        List<String> pending = new ArrayList<>(cutTensors);
        while (!pending.isEmpty()) {
            OnnxMl.NodeProto node = producer.get(pending.remove(pending.size() - 1));
            if (node != null && needed.add(node)) {
                pending.addAll(node.getInputList());
            }
        }
        Set<String> used = new HashSet<>();
        OnnxMl.GraphProto.Builder backbone = OnnxMl.GraphProto.newBuilder().setName(graph.getName() + "_backbone");
        for (OnnxMl.NodeProto node : graph.getNodeList()) {
            if (needed.contains(node)) {
                backbone.addNode(node);
                used.addAll(node.getInputList());
            }
        }
        graph.getInitializerList().stream().filter(t -> used.contains(t.getName())).forEach(backbone::addInitializer);
        graph.getInputList().stream()
                .filter(input -> used.contains(input.getName()) && !initializers.contains(input.getName()))
                .forEach(backbone::addInput);
        Map<String, OnnxMl.ValueInfoProto> known = graph.getValueInfoList().stream()
                .collect(Collectors.toMap(OnnxMl.ValueInfoProto::getName, Function.identity(), (a, b) -> a));
        for (String tensor : cutTensors) {
            if (graphInputs.contains(tensor)) {
                continue;
            }
            // ORT needs the element type of a graph output; features in front of a head are float.
            backbone.addOutput(known.getOrDefault(tensor, OnnxMl.ValueInfoProto.newBuilder()
                    .setName(tensor)
                    .setType(OnnxMl.TypeProto.newBuilder().setTensorType(
                            OnnxMl.TypeProto.Tensor.newBuilder().setElemType(OnnxMl.TensorProto.DataType.FLOAT_VALUE)))
                    .build()));
        }
        OnnxMl.ModelProto model = inference.toBuilder().setGraph(backbone).build();
        return new Cut(model, cutTensors, needed.size(), head.size());
    }
}
