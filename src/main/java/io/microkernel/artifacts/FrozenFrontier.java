package io.microkernel.artifacts;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.artifacts.checkpoint.CheckpointTensor;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where the frozen work of a training graph ends: the frontier tensors that are computed only from
 * the user inputs and frozen parameters and that the trainable part (or the loss, or a gradient)
 * reads. Finding it splits an artifact set in two: a frozen part that maps user inputs to the
 * frontier once per sample, and training and eval graphs cut at the frontier that take the
 * frontier tensors where the user inputs were.
 *
 * <p>Works on any standard set (Python's {@code generate_artifacts} or the project's compiler): a
 * node is frozen work when all its inputs are user inputs, frozen parameters, initializers or
 * outputs of frozen work, and it is deterministic. Random operators ({@code Dropout} and the
 * {@code Random*} family) count as trainable-side work, so the cut moves in front of them. Graphs
 * with control flow, trainable parameters read before any frozen work, or an eval graph whose
 * frozen part differs from the training graph's are not cut: {@link #find} says why.
 *
 * <p>Immutable and thread-safe; the models it returns are plain protobuf messages.
 */
public final class FrozenFrontier {

    /** Operators whose output differs from call to call, so their results may not be cached. */
    static final Set<String> RANDOM_OPS = Set.of("Dropout", "RandomNormal", "RandomNormalLike", "RandomUniform",
            "RandomUniformLike", "Multinomial", "Bernoulli", "BiasDropout", "BitmaskDropout", "BitmaskBiasDropout");

    /** What {@link #find} concluded. */
    public sealed interface Result permits Cut, Uncut {
    }

    /** The graphs cannot be cut; {@code reason} says why in one line. */
    public record Uncut(String reason) implements Result {
    }

    /**
     * The graphs cut at the frontier.
     *
     * @param features         the frontier tensors, training graph's first, then any the eval graph adds
     * @param trainingFeatures the frontier tensors the cut training graph takes, in its input order
     * @param evalFeatures     the frontier tensors the cut eval graph takes, in its input order
     * @param rawInputs        frontier tensors that are user inputs themselves (no frozen work before them)
     * @param frozenParameters the frozen parameters the frozen part reads
     * @param frozenNodes      nodes of the training graph that the frozen part runs
     */
    public record Cut(List<String> features, List<String> trainingFeatures, List<String> evalFeatures,
            Set<String> rawInputs, Set<String> frozenParameters, int frozenNodes, ModelProto training,
            ModelProto eval, Split trainingSplit, Split evalSplit) implements Result {

        /** The frontier tensors the frozen part computes (all but the raw user inputs). */
        public List<String> computed() {
            return features.stream().filter(f -> !rawInputs.contains(f)).toList();
        }

        /**
         * The frozen part as a model of its own, with the checkpoint's frozen parameters as
         * initializers: user inputs in, {@link #computed()} out.
         */
        public ModelProto frozenPart(Checkpoint checkpoint) {
            return trainingSplit.frozenPart(training, computed(), frozenParameters, checkpoint);
        }

        /** The training graph cut at the frontier, each frontier input described by {@code featureInfo}. */
        public ModelProto cutTraining(Map<String, ValueInfoProto> featureInfo) {
            return trainingSplit.cut(training, trainingFeatures, featureInfo);
        }

        /** The eval graph cut at the frontier, each frontier input described by {@code featureInfo}. */
        public ModelProto cutEval(Map<String, ValueInfoProto> featureInfo) {
            return evalSplit.cut(eval, evalFeatures, featureInfo);
        }
    }

    private FrozenFrontier() {
    }

    /**
     * Finds the frontier of a set's training and eval graphs.
     *
     * @param userInputs the user inputs (not the label) of the graphs
     * @param trainable  the trainable parameters; every other parameter of the checkpoint is frozen
     * @param frozen     the frozen parameters
     */
    public static Result find(ModelProto training, ModelProto eval, Collection<String> userInputs,
            Collection<String> trainable, Collection<String> frozen) {
        Split train = Split.of(training.getGraph(), userInputs, frozen);
        if (train.reason != null) {
            return new Uncut("training graph: " + train.reason);
        }
        Split ev = Split.of(eval.getGraph(), userInputs, frozen);
        if (ev.reason != null) {
            return new Uncut("eval graph: " + ev.reason);
        }
        Optional<String> why = train.whyNotUseful(userInputs).or(() -> ev.whyNotUseful(userInputs));
        if (why.isPresent()) {
            return new Uncut(why.get());
        }
        for (String f : ev.frontier) {
            if (!train.frozenTensors.contains(f)) {
                return new Uncut("the eval graph's frozen work ends at '" + f
                        + "', which the training graph does not compute from frozen work alone");
            }
        }
        LinkedHashSet<String> features = new LinkedHashSet<>(train.frontier);
        features.addAll(ev.frontier);
        Set<String> raw = new HashSet<>(features);
        raw.retainAll(new HashSet<>(userInputs));
        Set<String> frozenRead = train.frozenParametersFeeding(features, frozen);
        return new Cut(List.copyOf(features), train.frontier, ev.frontier, Set.copyOf(raw), frozenRead,
                train.frozenNodeCount(features), training, eval, train, ev);
    }

    /** The frozen/trainable split of one graph. */
    static final class Split {
        final GraphProto graph;
        /** Tensors computed from user inputs and frozen values only (user inputs included). */
        final Set<String> frozenTensors = new HashSet<>();
        /** Tensors that depend on no user input: initializers, frozen parameters and what is computed from them. */
        final Set<String> constants = new HashSet<>();
        final List<String> frontier = new ArrayList<>();
        final Map<String, NodeProto> producers = new HashMap<>();
        String reason;

        private Split(GraphProto graph) {
            this.graph = graph;
        }

        static Split of(GraphProto graph, Collection<String> userInputs, Collection<String> frozen) {
            Split split = new Split(graph);
            split.constants.addAll(frozen);
            graph.getInitializerList().forEach(t -> split.constants.add(t.getName()));
            split.frozenTensors.addAll(userInputs);
            for (NodeProto node : graph.getNodeList()) {
                node.getOutputList().forEach(o -> split.producers.put(o, node));
                if (node.getAttributeList().stream().anyMatch(a -> a.getType() == AttributeProto.AttributeType.GRAPH
                        || a.getType() == AttributeProto.AttributeType.GRAPHS)) {
                    split.reason = "control-flow operator " + node.getOpType() + " " + Onnx.describe(node)
                            + " is not handled by the cut";
                    return split;
                }
                split.classify(node);
            }
            split.findFrontier();
            return split;
        }

        private void classify(NodeProto node) {
            if (RANDOM_OPS.contains(node.getOpType())) {
                return;
            }
            List<String> inputs = node.getInputList().stream().filter(i -> !i.isEmpty()).toList();
            if (constants.containsAll(inputs)) {
                node.getOutputList().forEach(constants::add);
            } else if (inputs.stream().allMatch(i -> constants.contains(i) || frozenTensors.contains(i))) {
                node.getOutputList().forEach(frozenTensors::add);
            }
        }

        boolean isFrozenWork(NodeProto node) {
            return !node.getOutputList().isEmpty() && node.getOutputList().stream()
                    .allMatch(o -> o.isEmpty() || frozenTensors.contains(o));
        }

        private void findFrontier() {
            LinkedHashSet<String> found = new LinkedHashSet<>();
            for (NodeProto node : graph.getNodeList()) {
                if (isFrozenWork(node) || constants.containsAll(node.getOutputList())) {
                    continue;
                }
                node.getInputList().stream().filter(frozenTensors::contains).forEach(found::add);
            }
            graph.getOutputList().stream().map(ValueInfoProto::getName).filter(frozenTensors::contains)
                    .forEach(found::add);
            frontier.addAll(found);
        }

        Optional<String> whyNotUseful(Collection<String> userInputs) {
            for (ValueInfoProto output : graph.getOutputList()) {
                if (frozenTensors.contains(output.getName())) {
                    return Optional.of("graph output '" + output.getName()
                            + "' does not depend on any trainable parameter");
                }
            }
            if (frontier.isEmpty() || userInputs.containsAll(frontier)) {
                return Optional.of("trainable parameters sit before any frozen work: the trainable part reads the"
                        + " user inputs " + frontier + " directly");
            }
            return Optional.empty();
        }

        /** The frozen-work nodes (and constant nodes) the given tensors need, in graph order. */
        List<NodeProto> frozenNodesFor(Collection<String> tensors) {
            Set<NodeProto> needed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            List<String> pending = new ArrayList<>(tensors);
            while (!pending.isEmpty()) {
                NodeProto node = producers.get(pending.remove(pending.size() - 1));
                if (node != null && needed.add(node)) {
                    node.getInputList().stream().filter(i -> !i.isEmpty()).forEach(pending::add);
                }
            }
            return graph.getNodeList().stream().filter(needed::contains).toList();
        }

        int frozenNodeCount(Collection<String> features) {
            return frozenNodesFor(features).size();
        }

        Set<String> frozenParametersFeeding(Collection<String> features, Collection<String> frozen) {
            Set<String> read = new HashSet<>();
            frozenNodesFor(features).forEach(n -> read.addAll(n.getInputList()));
            Set<String> out = new java.util.TreeSet<>(frozen);
            out.retainAll(read);
            return out;
        }

        ModelProto frozenPart(ModelProto model, List<String> outputs, Set<String> frozenParameters,
                Checkpoint checkpoint) {
            List<NodeProto> nodes = frozenNodesFor(outputs);
            Set<String> read = new HashSet<>();
            nodes.forEach(n -> read.addAll(n.getInputList()));
            GraphProto.Builder part = GraphProto.newBuilder().setName(graph.getName() + "_frozen_part");
            part.addAllNode(nodes);
            graph.getInputList().stream()
                    .filter(i -> read.contains(i.getName()) && frozenTensors.contains(i.getName())
                            && !constants.contains(i.getName()))
                    .forEach(part::addInput);
            graph.getInitializerList().stream().filter(t -> read.contains(t.getName())).forEach(part::addInitializer);
            for (String name : frozenParameters) {
                CheckpointTensor p = checkpoint.parameter(name).orElseThrow(() -> new IllegalArgumentException(
                        "the checkpoint lacks frozen parameter '" + name + "'"));
                part.addInitializer(TensorProto.newBuilder().setName(name).setDataType(p.dataType())
                        .addAllDims(java.util.Arrays.stream(p.dims()).boxed().toList())
                        .setRawData(ByteString.copyFrom(p.rawData())));
            }
            ElemTypes types = new ElemTypes(graph);
            for (String output : outputs) {
                part.addOutput(Onnx.valueInfoNoShape(output, types.of(output)));
            }
            return model.toBuilder().setGraph(part).build();
        }

        /**
         * This graph with the frozen work removed: the frontier tensors become its first inputs, where
         * the user inputs were; nodes, initializers and value infos nothing reads any more are dropped.
         */
        ModelProto cut(ModelProto model, List<String> features, Map<String, ValueInfoProto> featureInfo) {
            List<NodeProto> kept = liveNodes(graph.getNodeList().stream().filter(n -> !isFrozenWork(n)).toList());
            Set<String> read = new HashSet<>();
            Set<String> produced = new HashSet<>();
            kept.forEach(n -> {
                read.addAll(n.getInputList());
                produced.addAll(n.getOutputList());
            });
            GraphProto.Builder cut = graph.toBuilder().clearNode().clearInput().clearInitializer().clearValueInfo();
            for (String f : features) {
                ValueInfoProto info = featureInfo.get(f);
                if (info == null) {
                    throw new IllegalArgumentException("no type known for frontier tensor '" + f + "'");
                }
                cut.addInput(info);
            }
            graph.getInputList().stream().filter(i -> !frozenTensors.contains(i.getName())).forEach(cut::addInput);
            cut.addAllNode(kept);
            graph.getInitializerList().stream().filter(t -> read.contains(t.getName())).forEach(cut::addInitializer);
            graph.getValueInfoList().stream().filter(v -> produced.contains(v.getName())).forEach(cut::addValueInfo);
            return model.toBuilder().setGraph(cut).build();
        }

        /** The nodes whose outputs a graph output needs, through the other kept nodes. */
        private List<NodeProto> liveNodes(List<NodeProto> candidates) {
            Set<String> needed = new HashSet<>();
            graph.getOutputList().forEach(o -> needed.add(o.getName()));
            List<NodeProto> live = new ArrayList<>();
            for (int i = candidates.size() - 1; i >= 0; i--) {
                NodeProto node = candidates.get(i);
                if (node.getOutputList().stream().anyMatch(needed::contains)) {
                    live.add(0, node);
                    node.getInputList().forEach(needed::add);
                }
            }
            return live;
        }
    }
}
