package io.microkernel.artifacts;

import io.microkernel.tensor.DType;
import io.microkernel.tensor.TensorSpec;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.artifacts.checkpoint.CheckpointTensor;
import io.microkernel.artifacts.Onnx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Derives an {@link ArtifactDescription} from the graphs and the checkpoint, the way ONNX Runtime will
 * use them, then applies the manifest's overrides.
 */
final class Describer {

    private static final Set<String> PASS_THROUGH = Set.of("Identity", "Cast", "Reshape", "Squeeze", "Unsqueeze",
            "Flatten");

    private final Path trainingFile;
    private final Path evalFile;
    private final Path manifestFile;
    private final GraphProto training;
    private final GraphProto eval;
    private final Checkpoint checkpoint;
    private final Optional<Manifest> manifest;
    private final Map<String, NodeProto> producers = new HashMap<>();
    private final Map<String, List<NodeProto>> consumers = new HashMap<>();
    private final Map<String, ValueInfoProto> typed = new HashMap<>();

    Describer(Path dir, ModelProto training, ModelProto eval, Checkpoint checkpoint, Optional<Manifest> manifest) {
        this.trainingFile = dir.resolve(ArtifactSet.TRAINING_MODEL);
        this.evalFile = dir.resolve(ArtifactSet.EVAL_MODEL);
        this.manifestFile = dir.resolve(ArtifactSet.MANIFEST);
        this.training = training.getGraph();
        this.eval = eval.getGraph();
        this.checkpoint = checkpoint;
        this.manifest = manifest;
        for (NodeProto n : this.eval.getNodeList()) {
            n.getOutputList().forEach(o -> producers.put(o, n));
            n.getInputList().forEach(i -> consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n));
        }
        for (GraphProto g : List.of(this.training, this.eval)) {
            g.getValueInfoList().forEach(v -> typed.putIfAbsent(v.getName(), v));
            g.getOutputList().forEach(v -> typed.putIfAbsent(v.getName(), v));
            g.getInputList().forEach(v -> typed.putIfAbsent(v.getName(), v));
        }
    }

    /** What the loss says about the set, before the manifest. */
    private record LossInfo(LossKind kind, String scoreInput, String labelInput) {
    }

    /** The classes of a cross-entropy set: their count and names (none for MSE). */
    private record Classes(int count, List<String> names) {
    }

    ArtifactDescription describe() {
        Map<String, ValueInfoProto> trainInputs = byName(training.getInputList());
        Map<String, ValueInfoProto> evalInputs = byName(eval.getInputList());
        checkParameters(trainInputs, evalInputs);

        Optional<LossInfo> found = findLoss();
        Manifest m = manifest.orElse(null);
        LossKind kind = lossKind(m, found);
        String labelName = labelName(m, found, trainInputs, evalInputs);
        TensorSpec label = spec(trainInputs.get(labelName), trainingFile, "label");
        checkLabel(kind, label);
        String inferenceOutput = inferenceOutput(m, found, kind, evalInputs);
        List<TensorSpec> inputs = userInputs(labelName, evalInputs);
        Classes classes = kind == LossKind.CROSS_ENTROPY ? classes(m, found, inferenceOutput) : new Classes(0, List.of());

        return new ArtifactDescription(inputs, label, kind, inferenceOutput,
                checkpoint.trainable().stream().map(Describer::parameterSpec).toList(),
                checkpoint.frozen().stream().map(Describer::parameterSpec).toList(),
                classes.count(), classes.names());
    }

    private LossKind lossKind(Manifest m, Optional<LossInfo> found) {
        if (m != null && m.lossKind().isPresent()) {
            return m.lossKind().get();
        }
        return found.map(LossInfo::kind).orElseThrow(() -> new ArtifactException(evalFile,
                "cannot find the loss: expected a SoftmaxCrossEntropyLoss node or Sub, Pow and ReduceMean (MSE)"
                        + "; name \"loss\", \"label\" and \"inference_output\" in " + ArtifactSet.MANIFEST));
    }

    /** The label input: named by the manifest, or traced back from the loss node to a graph input. */
    private String labelName(Manifest m, Optional<LossInfo> found, Map<String, ValueInfoProto> trainInputs,
            Map<String, ValueInfoProto> evalInputs) {
        if (m != null && m.label() != null) {
            String labelName = m.label();
            if (!trainInputs.containsKey(labelName) || !evalInputs.containsKey(labelName)) {
                throw new ArtifactException(manifestFile, "\"label\" names '" + labelName
                        + "', which is not an input of both graphs");
            }
            return labelName;
        }
        String raw = found.map(LossInfo::labelInput).orElseThrow(() -> new ArtifactException(manifestFile,
                "\"label\" is needed: the loss node was not found"));
        String labelName = traceToInput(raw, evalInputs).orElseThrow(() -> new ArtifactException(evalFile,
                "the loss label '" + raw + "' does not come from a graph input"));
        if (!trainInputs.containsKey(labelName)) {
            throw new ArtifactException(trainingFile, "label input '" + labelName + "' of the eval graph is not an input");
        }
        return labelName;
    }

    /** The output to export for inference: named by the manifest, or found from the loss node's scores. */
    private String inferenceOutput(Manifest m, Optional<LossInfo> found, LossKind kind,
            Map<String, ValueInfoProto> evalInputs) {
        if (m != null && m.inferenceOutput() != null) {
            String inferenceOutput = m.inferenceOutput();
            if (!producers.containsKey(inferenceOutput) && !evalInputs.containsKey(inferenceOutput)) {
                throw new ArtifactException(manifestFile, "\"inference_output\" names '" + inferenceOutput
                        + "', which no node of " + ArtifactSet.EVAL_MODEL + " produces");
            }
            return inferenceOutput;
        }
        LossInfo info = found.orElseThrow(() -> new ArtifactException(manifestFile,
                "\"inference_output\" is needed: the loss node was not found"));
        return kind == LossKind.CROSS_ENTROPY ? classifierOutput(info.scoreInput()) : regressionOutput(info.scoreInput());
    }

    /** The training graph's inputs that are neither the label, a parameter nor gradient plumbing. */
    private List<TensorSpec> userInputs(String labelName, Map<String, ValueInfoProto> evalInputs) {
        List<TensorSpec> inputs = new ArrayList<>();
        Set<String> parameterNames = new java.util.HashSet<>();
        checkpoint.parameters().forEach(p -> parameterNames.add(p.name()));
        for (ValueInfoProto in : training.getInputList()) {
            String name = in.getName();
            if (name.equals(labelName) || parameterNames.contains(name) || name.equals(TrainingGraphNames.LAZY_RESET_GRAD)
                    || name.endsWith(TrainingGraphNames.GRAD_BUFFER_SUFFIX)) {
                continue;
            }
            if (!evalInputs.containsKey(name)) {
                throw new ArtifactException(evalFile, "user input '" + name + "' of " + ArtifactSet.TRAINING_MODEL
                        + " is not an input");
            }
            inputs.add(spec(in, trainingFile, "input"));
        }
        if (inputs.isEmpty()) {
            throw new ArtifactException(trainingFile, "no user inputs besides the label and the parameters");
        }
        return inputs;
    }

    /** The classes of a cross-entropy set: as the manifest names them, else counted from the scores. */
    private Classes classes(Manifest m, Optional<LossInfo> found, String inferenceOutput) {
        String scores = found.map(LossInfo::scoreInput).orElse(inferenceOutput);
        int numClasses = countClasses(scores, inferenceOutput);
        if (m != null && m.classes() != null) {
            if (numClasses > 0 && numClasses != m.classes().size()) {
                throw new ArtifactException(manifestFile, "\"classes\" names " + m.classes().size()
                        + " classes, but the model scores " + numClasses);
            }
            return new Classes(m.classes().size(), m.classes());
        }
        if (numClasses > 0) {
            return new Classes(numClasses, IntStream.range(0, numClasses).mapToObj(Integer::toString).toList());
        }
        throw new ArtifactException(evalFile, "cannot tell the number of classes from '" + scores
                + "'; list \"classes\" in " + ArtifactSet.MANIFEST);
    }

    private static ParameterSpec parameterSpec(CheckpointTensor t) {
        return new ParameterSpec(t.name(), t.shape(), t.elementCount());
    }

    private static Map<String, ValueInfoProto> byName(List<ValueInfoProto> infos) {
        Map<String, ValueInfoProto> map = new LinkedHashMap<>();
        infos.forEach(i -> map.put(i.getName(), i));
        return map;
    }

    private void checkParameters(Map<String, ValueInfoProto> trainInputs, Map<String, ValueInfoProto> evalInputs) {
        Set<String> trainInits = new java.util.HashSet<>();
        training.getInitializerList().forEach(t -> trainInits.add(t.getName()));
        for (CheckpointTensor p : checkpoint.parameters()) {
            ValueInfoProto in = trainInputs.get(p.name());
            if (in == null) {
                throw new ArtifactException(trainingFile, "checkpoint parameter '" + p.name()
                        + "' is not an input of the graph");
            }
            if (!evalInputs.containsKey(p.name())) {
                throw new ArtifactException(evalFile, "checkpoint parameter '" + p.name() + "' is not an input of the graph");
            }
            Optional<long[]> dims = Onnx.dims(in);
            if (dims.isPresent() && !compatible(dims.get(), p.dims())) {
                throw new ArtifactException(trainingFile, "parameter '" + p.name() + "' expects shape "
                        + Arrays.toString(dims.get()) + ", the checkpoint holds " + Arrays.toString(p.dims()));
            }
        }
        for (CheckpointTensor p : checkpoint.trainable()) {
            if (!trainInputs.containsKey(p.name() + TrainingGraphNames.GRAD_BUFFER_SUFFIX)) {
                throw new ArtifactException(trainingFile, "trainable parameter '" + p.name() + "' has no gradient input '"
                        + p.name() + TrainingGraphNames.GRAD_BUFFER_SUFFIX + "'");
            }
        }
        for (String name : trainInputs.keySet()) {
            if (name.endsWith(TrainingGraphNames.GRAD_BUFFER_SUFFIX)) {
                String owner = name.substring(0, name.length() - TrainingGraphNames.GRAD_BUFFER_SUFFIX.length());
                if (checkpoint.trainable().stream().noneMatch(t -> t.name().equals(owner))) {
                    throw new ArtifactException(trainingFile, "gradient input '" + name + "' belongs to no trainable "
                            + "parameter of the checkpoint");
                }
            }
        }
    }

    private static boolean compatible(long[] graph, long[] stored) {
        if (graph.length != stored.length) {
            return false;
        }
        for (int i = 0; i < graph.length; i++) {
            if (graph[i] >= 0 && graph[i] != stored[i]) {
                return false;
            }
        }
        return true;
    }

    private Optional<LossInfo> findLoss() {
        for (NodeProto n : eval.getNodeList()) {
            boolean standard = n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
            if (standard && (n.getOpType().equals("SoftmaxCrossEntropyLoss")
                    || n.getOpType().equals("NegativeLogLikelihoodLoss")) && n.getInputCount() >= 2) {
                return Optional.of(new LossInfo(LossKind.CROSS_ENTROPY, n.getInput(0), n.getInput(1)));
            }
        }
        for (NodeProto n : eval.getNodeList()) {
            if (!n.getOpType().equals("Sub") || n.getInputCount() != 2) {
                continue;
            }
            String diff = n.getOutput(0);
            for (NodeProto square : consumers.getOrDefault(diff, List.of())) {
                boolean isSquare = square.getOpType().equals("Pow")
                        || square.getOpType().equals("Mul") && square.getInput(0).equals(diff) && square.getInput(1).equals(diff);
                if (!isSquare) {
                    continue;
                }
                for (NodeProto reduce : consumers.getOrDefault(square.getOutput(0), List.of())) {
                    if (reduce.getOpType().equals("ReduceMean")) {
                        return Optional.of(new LossInfo(LossKind.MSE, n.getInput(0), n.getInput(1)));
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** Follows shape and type plumbing (Cast, Reshape...) back to a graph input. */
    private Optional<String> traceToInput(String tensor, Map<String, ValueInfoProto> inputs) {
        String current = tensor;
        for (int guard = 0; guard < 16; guard++) {
            if (inputs.containsKey(current)) {
                return Optional.of(current);
            }
            NodeProto p = producers.get(current);
            if (p == null || !PASS_THROUGH.contains(p.getOpType()) || p.getInputCount() == 0) {
                return Optional.empty();
            }
            current = p.getInput(0);
        }
        return Optional.empty();
    }

    private void checkLabel(LossKind kind, TensorSpec label) {
        if (kind == LossKind.CROSS_ENTROPY && label.dtype() != DType.INT64 && label.dtype() != DType.INT32) {
            throw new ArtifactException(trainingFile, "label '" + label.name() + "' has dtype " + label.dtype()
                    + "; expected INT64 or INT32 class indices for cross-entropy");
        }
        if (kind == LossKind.MSE && label.dtype() != DType.FLOAT && label.dtype() != DType.DOUBLE) {
            throw new ArtifactException(trainingFile, "label '" + label.name() + "' has dtype " + label.dtype()
                    + "; expected FLOAT or DOUBLE targets for MSE");
        }
    }

    private TensorSpec spec(ValueInfoProto info, Path file, String role) {
        int code = Onnx.elemType(info);
        DType dtype = DType.fromOnnxCode(code).orElseThrow(() -> new ArtifactException(file, role + " '" + info.getName()
                + "' has unsupported " + (code == 0 ? "type (not a tensor)" : "element type " + code)
                + "; expected one of FLOAT, DOUBLE, INT32, INT64, BOOL"));
        long[] dims = Onnx.dims(info).orElse(new long[0]);
        return new TensorSpec(info.getName(), dtype, Arrays.stream(dims).boxed().toList());
    }

    /** Probabilities when the graph has them next to the logits, else the logits themselves. */
    private String classifierOutput(String scores) {
        List<String> extra = eval.getOutputList().stream().skip(1).map(ValueInfoProto::getName).toList();
        for (String o : extra) {
            if (o.equals(scores) || isSoftmaxOf(o, scores)) {
                return o;
            }
        }
        for (NodeProto c : consumers.getOrDefault(scores, List.of())) {
            if (isSoftmax(c) && !consumers.containsKey(c.getOutput(0))) {
                return c.getOutput(0);
            }
        }
        return scores;
    }

    private String regressionOutput(String prediction) {
        List<String> extra = eval.getOutputList().stream().skip(1).map(ValueInfoProto::getName).toList();
        if (extra.contains(prediction) || extra.isEmpty()) {
            return prediction;
        }
        return extra.size() == 1 ? extra.get(0) : prediction;
    }

    private boolean isSoftmaxOf(String tensor, String scores) {
        NodeProto p = producers.get(tensor);
        return p != null && isSoftmax(p) && p.getInput(0).equals(scores);
    }

    private static boolean isSoftmax(NodeProto n) {
        return (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))
                && (n.getOpType().equals("Softmax") || n.getOpType().equals("LogSoftmax"));
    }

    /**
     * The class count: the class axis of the scores where the graphs state it, else the width of the
     * parameter that produces them.
     */
    private int countClasses(String scores, String inferenceOutput) {
        for (String t : List.of(scores, inferenceOutput)) {
            ValueInfoProto info = typed.get(t);
            if (info != null) {
                Optional<long[]> dims = Onnx.dims(info);
                if (dims.isPresent() && dims.get().length >= 2 && dims.get()[1] > 0) {
                    return (int) dims.get()[1];
                }
            }
        }
        OptionalInt fromProducers = widthOfScoringLayer(scores);
        if (fromProducers.isPresent()) {
            return fromProducers.getAsInt();
        }
        List<CheckpointTensor> trainable = checkpoint.trainable();
        for (int i = trainable.size() - 1; i >= 0; i--) {
            long[] d = trainable.get(i).dims();
            if (d.length == 1 && d[0] > 1) {
                return (int) d[0];
            }
        }
        return 0;
    }

    /** Walks back from the scores through pass-through nodes to the layer that makes them, and reads its width. */
    private OptionalInt widthOfScoringLayer(String scores) {
        String current = scores;
        for (int guard = 0; guard < 8; guard++) {
            NodeProto p = producers.get(current);
            if (p == null) {
                break;
            }
            OptionalInt width = outputWidth(p);
            if (width.isPresent()) {
                return width;
            }
            if (!PASS_THROUGH.contains(p.getOpType()) && !p.getOpType().equals("Add")) {
                break;
            }
            current = p.getInput(0);
        }
        return OptionalInt.empty();
    }

    /** The output width of a Gemm, MatMul or bias Add, from the shape of its parameter. */
    private OptionalInt outputWidth(NodeProto p) {
        switch (p.getOpType()) {
            case "Gemm": {
                if (p.getInputCount() > 2) {
                    long[] c = parameterDims(p.getInput(2));
                    if (c != null && c.length >= 1 && c[c.length - 1] > 1) {
                        return OptionalInt.of((int) c[c.length - 1]);
                    }
                }
                long[] b = parameterDims(p.getInput(1));
                if (b != null && b.length == 2) {
                    return OptionalInt.of((int) (Onnx.intAttr(p, "transB", 0) == 1 ? b[0] : b[1]));
                }
                return OptionalInt.empty();
            }
            case "MatMul": {
                long[] b = parameterDims(p.getInput(1));
                if (b != null && b.length >= 2) {
                    return OptionalInt.of((int) b[b.length - 1]);
                }
                return OptionalInt.empty();
            }
            case "Add": {
                for (String in : p.getInputList()) {
                    long[] d = parameterDims(in);
                    if (d != null && d.length >= 1 && d[d.length - 1] > 1) {
                        return OptionalInt.of((int) d[d.length - 1]);
                    }
                }
                return OptionalInt.empty();
            }
            default:
                return OptionalInt.empty();
        }
    }

    private long[] parameterDims(String name) {
        Optional<CheckpointTensor> p = checkpoint.parameter(name);
        if (p.isPresent()) {
            return p.get().dims();
        }
        for (TensorProto t : eval.getInitializerList()) {
            if (t.getName().equals(name)) {
                return Onnx.dims(t);
            }
        }
        return null;
    }
}
