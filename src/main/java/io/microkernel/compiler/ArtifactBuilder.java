package io.microkernel.compiler;

import io.microkernel.artifacts.ArtifactException;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.LossKind;
import io.microkernel.artifacts.Manifest;
import io.microkernel.artifacts.TrainingGraphNames;
import static io.microkernel.artifacts.Onnx.attr;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.artifacts.checkpoint.CheckpointTensor;
import io.microkernel.artifacts.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds a standard ONNX Runtime training artifact set from an inference model, in pure Java: the
 * equivalent of Python's {@code onnxruntime.training.artifacts.generate_artifacts}.
 *
 * <p>Every float initializer of the model becomes a parameter: the chosen ones trainable, the rest
 * frozen. Other initializers (shapes, indices) stay constants. The frozen part of the graph may use any
 * operator; nodes between a trainable parameter and the loss must be among {@link Autodiff#SUPPORTED}.
 * For cross-entropy, a final {@code Softmax} or {@code LogSoftmax} is folded into the loss while the
 * eval graph keeps the model's own output, so exporting that output gives back the original model.
 *
 * <p>A builder is a mutable, single-threaded configuration; {@link #build(OrtEnvironment, Path)} may be
 * called more than once. Building loads the model once in the given ONNX Runtime environment to learn
 * every tensor's shape; the caller owns that environment (the CLI starts it through
 * {@code OrtRuntime.start}), the builder never looks one up.
 */
public final class ArtifactBuilder {

    private static final String LAZY_RESET_GRAD = TrainingGraphNames.LAZY_RESET_GRAD;
    private static final String GRAD_BUFFER_SUFFIX = TrainingGraphNames.GRAD_BUFFER_SUFFIX;
    private static final String GRAD_OUT_SUFFIX = TrainingGraphNames.GRAD_OUT_SUFFIX;

    private static final long MIN_OPSET = 13;
    private static final long TARGET_OPSET = 17;
    private static final long IR_VERSION = 10;

    private final ModelProto model;
    private final Path source;
    private Set<String> trainableNames;
    private Pattern trainablePattern;
    private boolean allTrainable;
    private LossKind loss = LossKind.CROSS_ENTROPY;
    private String output;
    private double alpha = 0.9;
    private double beta = 0.999;
    private double epsilon = 1e-6;
    private double weightDecay = 0.0;
    private List<String> classNames = List.of();
    private Double learningRateHint;
    private String description;

    private ArtifactBuilder(ModelProto model, Path source) {
        this.model = model;
        this.source = source;
    }

    /** Starts from an inference model file. */
    public static ArtifactBuilder fromModel(Path inferenceOnnx) {
        return new ArtifactBuilder(Onnx.read(inferenceOnnx), inferenceOnnx);
    }

    /** Starts from an inference model in memory. */
    public static ArtifactBuilder fromModel(ModelProto model) {
        Objects.requireNonNull(model, "model");
        String name = model.getGraph().getName().isBlank() ? "model" : model.getGraph().getName();
        return new ArtifactBuilder(model, Path.of(name.replaceAll("[^A-Za-z0-9_.-]", "_") + ".onnx"));
    }

    /** Trains exactly these initializers; all others are frozen. */
    public ArtifactBuilder trainable(Collection<String> initializerNames) {
        this.trainableNames = new LinkedHashSet<>(initializerNames);
        this.trainablePattern = null;
        this.allTrainable = false;
        return this;
    }

    /** Trains the float initializers whose whole name matches {@code pattern}. */
    public ArtifactBuilder trainablePattern(Pattern pattern) {
        this.trainablePattern = Objects.requireNonNull(pattern);
        this.trainableNames = null;
        this.allTrainable = false;
        return this;
    }

    /** Trains every float initializer (to pretrain a whole network). */
    public ArtifactBuilder allTrainable() {
        this.allTrainable = true;
        this.trainableNames = null;
        this.trainablePattern = null;
        return this;
    }

    /** The loss; cross-entropy (int64 class indices) unless set. */
    public ArtifactBuilder loss(LossKind loss) {
        this.loss = Objects.requireNonNull(loss);
        return this;
    }

    /** The model output to train and export; by default the model's only output. */
    public ArtifactBuilder output(String graphOutputName) {
        this.output = Objects.requireNonNull(graphOutputName);
        return this;
    }

    /** AdamW hyper-parameters (first and second moment decay, epsilon, weight decay). */
    public ArtifactBuilder adamW(double alpha, double beta, double epsilon, double weightDecay) {
        if (!(alpha >= 0 && alpha < 1 && beta >= 0 && beta < 1 && epsilon > 0 && weightDecay >= 0)) {
            throw new IllegalArgumentException("AdamW expects 0 <= alpha, beta < 1, epsilon > 0, weight decay >= 0; found "
                    + alpha + ", " + beta + ", " + epsilon + ", " + weightDecay);
        }
        this.alpha = alpha;
        this.beta = beta;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        return this;
    }

    /** Class names, in class-index order; written to {@code manifest.json}. */
    public ArtifactBuilder classNames(List<String> names) {
        this.classNames = List.copyOf(names);
        return this;
    }

    /** A suggested learning rate, written to {@code manifest.json}. */
    public ArtifactBuilder learningRateHint(double learningRate) {
        if (!(learningRate > 0 && Double.isFinite(learningRate))) {
            throw new IllegalArgumentException("learning rate must be positive, found " + learningRate);
        }
        this.learningRateHint = learningRate;
        return this;
    }

    /** Free text for {@code manifest.json}. */
    public ArtifactBuilder description(String text) {
        this.description = text;
        return this;
    }

    /**
     * Writes {@code training_model.onnx}, {@code eval_model.onnx}, {@code optimizer_model.onnx},
     * {@code checkpoint} and, when class names, a learning rate or a description were given,
     * {@code manifest.json} into {@code outDir} (created when missing), then opens the result.
     *
     * @throws ArtifactException one line naming the model and the cause: an unsupported operator on the
     *                           trainable path, an unknown initializer or output, an old opset...
     */
    public ArtifactSet build(OrtEnvironment env, Path outDir) {
        Objects.requireNonNull(env, "env");
        Graphs graphs;
        try {
            graphs = new Assembly().assemble(env);
        } catch (GraphException e) {
            throw new ArtifactException(source, e.getMessage(), e);
        }
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new ArtifactException(outDir, "cannot create folder: " + e.getMessage(), e);
        }
        Onnx.write(graphs.training, outDir.resolve(ArtifactSet.TRAINING_MODEL));
        Onnx.write(graphs.eval, outDir.resolve(ArtifactSet.EVAL_MODEL));
        Onnx.write(graphs.optimizer, outDir.resolve(ArtifactSet.OPTIMIZER_MODEL));
        graphs.checkpoint.write(outDir.resolve(ArtifactSet.CHECKPOINT));
        Path manifestFile = outDir.resolve(ArtifactSet.MANIFEST);
        if (!classNames.isEmpty() || learningRateHint != null || description != null) {
            new Manifest(classNames.isEmpty() ? null : classNames, graphs.inferenceOutput, graphs.label,
                    Manifest.lossName(loss), description, learningRateHint).write(manifestFile);
        } else {
            try {
                Files.deleteIfExists(manifestFile);
            } catch (IOException e) {
                throw new ArtifactException(manifestFile, "cannot remove a stale manifest: " + e.getMessage(), e);
            }
        }
        return ArtifactSet.open(outDir);
    }

    private record Graphs(ModelProto training, ModelProto eval, ModelProto optimizer, Checkpoint checkpoint,
            String inferenceOutput, String label) {
    }

    /** The names a build adds to the graph, reserved so they clash with nothing in the model. */
    private record Names(String reset, Map<String, String> buffers, Map<String, String> flags, String label,
            String loss, String seed) {
    }

    /** The loss part of the graphs, and the gradient it feeds back into the model's output. */
    private record LossNodes(List<NodeProto> eval, List<NodeProto> train, List<TensorProto> constants,
            ValueInfoProto labelInfo, String lossInputGrad) {
    }

    /** One build: all the derived state of turning the model into training graphs. */
    private final class Assembly {
        private final GraphProto graph = model.getGraph();
        private final Map<String, TensorProto> initializers = new LinkedHashMap<>();
        private final Map<String, NodeProto> producers = new HashMap<>();
        private final Set<String> taken = new HashSet<>();

        Graphs assemble(OrtEnvironment env) {
            checkOpset();
            indexGraph();
            List<String> parameters = initializers.values().stream()
                    .filter(t -> t.getDataType() == Onnx.FLOAT).map(TensorProto::getName).toList();
            List<String> trainable = chooseTrainable(parameters);
            List<ValueInfoProto> userInputs = graph.getInputList().stream()
                    .filter(i -> !initializers.containsKey(i.getName())).toList();
            if (userInputs.isEmpty()) {
                throw new GraphException("model has no inputs besides its initializers");
            }
            String out = chooseOutput();
            ShapeOracle shapes = shapes(env);
            ShapeOracle.TensorType outType = shapes.type(out).orElseThrow(
                    () -> new GraphException("the type of output '" + out + "' cannot be inferred"));
            if (outType.elemType() != Onnx.FLOAT) {
                throw new GraphException("output '" + out + "' has element type " + outType.elemType()
                        + "; expected float (1) to train it");
            }
            String lossInput = lossInput(out, outType);
            long[] lossInputDims = shapes.type(lossInput).map(ShapeOracle.TensorType::dims).orElse(outType.dims());

            GraphEmitter emitter = new GraphEmitter(taken);
            Names names = reserveNames(emitter, trainable);
            TensorProto seedTensor = Onnx.scalarFloat(names.seed(), 1f);
            LossNodes lossNodes = loss == LossKind.CROSS_ENTROPY
                    ? crossEntropy(emitter, names, lossInput, lossInputDims)
                    : meanSquaredError(emitter, names, lossInput, lossInputDims);
            accumulateGradients(emitter, names, trainable, lossInput, lossNodes.lossInputGrad(), shapes);

            List<ValueInfoProto> parameterInputs = parameters.stream()
                    .map(p -> Onnx.valueInfo(p, Onnx.FLOAT, Onnx.dims(initializers.get(p)))).toList();
            List<TensorProto> constants = initializers.values().stream()
                    .filter(t -> t.getDataType() != Onnx.FLOAT).toList();
            ModelProto training = trainingModel(emitter, names, trainable, userInputs, parameterInputs, constants,
                    lossNodes, seedTensor);
            ModelProto eval = evalModel(names, userInputs, parameterInputs, constants, lossNodes, out, outType);
            return new Graphs(training, eval, optimizer(), checkpoint(parameters, trainable), out, names.label());
        }

        private void checkOpset() {
            long opset = Onnx.opset(model, "");
            if (opset < MIN_OPSET) {
                throw new GraphException("model imports ONNX opset " + opset + "; expected " + MIN_OPSET
                        + " or later (convert it with onnx.version_converter)");
            }
        }

        /** Fills {@link #initializers}, {@link #producers} and the names {@link #taken} by the model. */
        private void indexGraph() {
            for (TensorProto t : graph.getInitializerList()) {
                if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                    throw new GraphException("initializer '" + t.getName()
                            + "' keeps its data in an external file; save the model with its data inside");
                }
                initializers.put(t.getName(), t);
            }
            for (NodeProto n : graph.getNodeList()) {
                for (String o : n.getOutputList()) {
                    producers.put(o, n);
                }
            }
            graph.getInputList().forEach(i -> taken.add(i.getName()));
            graph.getOutputList().forEach(i -> taken.add(i.getName()));
            taken.addAll(initializers.keySet());
            for (NodeProto n : graph.getNodeList()) {
                taken.addAll(n.getOutputList());
                taken.add(n.getName());
            }
        }

        private ShapeOracle shapes(OrtEnvironment env) {
            try {
                return ShapeOracle.of(env, model);
            } catch (IllegalArgumentException e) {
                throw new GraphException("ONNX Runtime cannot load the model: " + e.getMessage());
            }
        }

        /** The tensor the loss reads: for cross-entropy, a final softmax over the last axis is folded in. */
        private String lossInput(String out, ShapeOracle.TensorType outType) {
            NodeProto last = producers.get(out);
            if (loss == LossKind.CROSS_ENTROPY && last != null && last.getDomain().isEmpty()
                    && (last.getOpType().equals("Softmax") || last.getOpType().equals("LogSoftmax"))) {
                long axis = Onnx.intAttr(last, "axis", -1);
                if (axis == -1 || axis == outType.rank() - 1) {
                    return last.getInput(0);
                }
            }
            return out;
        }

        private Names reserveNames(GraphEmitter emitter, List<String> trainable) {
            String resetName = emitter.reserve(LAZY_RESET_GRAD);
            Map<String, String> bufferNames = new LinkedHashMap<>();
            Map<String, String> flagNames = new LinkedHashMap<>();
            for (String p : trainable) {
                bufferNames.put(p, emitter.reserve(p + GRAD_BUFFER_SUFFIX));
                flagNames.put(p, emitter.reserve(p + GRAD_OUT_SUFFIX));
            }
            String label = emitter.fresh("labels");
            String lossName = emitter.fresh("loss");
            String seed = emitter.fresh(lossName + "_grad");
            return new Names(resetName, bufferNames, flagNames, label, lossName, seed);
        }

        private LossNodes crossEntropy(GraphEmitter emitter, Names names, String lossInput, long[] lossInputDims) {
            if (lossInputDims.length < 2) {
                throw new GraphException("cross-entropy needs scores of shape [batch, classes], but '" + lossInput
                        + "' has rank " + lossInputDims.length);
            }
            String label = names.label();
            String lossName = names.loss();
            long[] labelDims = new long[lossInputDims.length - 1];
            labelDims[0] = lossInputDims[0];
            System.arraycopy(lossInputDims, 2, labelDims, 1, lossInputDims.length - 2);
            ValueInfoProto labelInfo = Onnx.valueInfo(label, Onnx.INT64, labelDims);
            String logProb = emitter.fresh(lossName + "_log_prob");
            NodeProto evalLoss = Onnx.node("SoftmaxCrossEntropyLoss", emitter.fresh("SoftmaxCrossEntropyLoss"),
                    List.of(lossInput, label), List.of(lossName), attr("reduction", "mean"));
            NodeProto trainLoss = Onnx.node("SoftmaxCrossEntropyLoss", emitter.fresh("SoftmaxCrossEntropyLoss"),
                    List.of(lossInput, label), List.of(lossName, logProb), attr("reduction", "mean"));
            String lossInputGrad = emitter.emitTo(Onnx.MICROSOFT, "SoftmaxCrossEntropyLossGrad",
                    List.of(names.seed(), logProb, label), emitter.fresh(lossInput + "_grad"), attr("reduction", "mean"));
            return new LossNodes(List.of(evalLoss), List.of(trainLoss), List.of(), labelInfo, lossInputGrad);
        }

        private LossNodes meanSquaredError(GraphEmitter emitter, Names names, String lossInput, long[] lossInputDims) {
            String label = names.label();
            String lossName = names.loss();
            ValueInfoProto labelInfo = Onnx.valueInfo(label, Onnx.FLOAT, lossInputDims);
            String diff = emitter.fresh(lossName + "_diff");
            String squared = emitter.fresh(lossName + "_squared");
            String two = emitter.fresh(lossName + "_exponent");
            List<NodeProto> mse = List.of(
                    Onnx.node("Sub", emitter.fresh("MSE/Sub"), List.of(lossInput, label), List.of(diff)),
                    Onnx.node("Pow", emitter.fresh("MSE/Pow"), List.of(diff, two), List.of(squared)),
                    Onnx.node("ReduceMean", emitter.fresh("MSE/ReduceMean"), List.of(squared), List.of(lossName),
                            attr("keepdims", 0L)));
            // d/dpred mean((pred - y)^2) = 2 (pred - y) / count
            String count = emitter.emit("Cast", List.of(emitter.emit("Size", List.of(diff))),
                    attr("to", (long) Onnx.FLOAT));
            String scale = emitter.emit("Div", List.of(two, count));
            String lossInputGrad = emitter.emitTo("", "Mul", List.of(emitter.emit("Mul", List.of(diff, scale)),
                    names.seed()), emitter.fresh(lossInput + "_grad"));
            return new LossNodes(mse, mse, List.of(Onnx.scalarFloat(two, 2f)), labelInfo, lossInputGrad);
        }

        /** Backpropagates to every trainable parameter and adds its gradient into its buffer. */
        private void accumulateGradients(GraphEmitter emitter, Names names, List<String> trainable, String lossInput,
                String lossInputGrad, ShapeOracle shapes) {
            Map<String, String> gradients = Autodiff.gradients(graph.getNodeList(), trainable, lossInput, lossInputGrad,
                    shapes, emitter);
            for (String p : trainable) {
                String g = gradients.get(p);
                String named = p + "_grad";
                if (!g.equals(named) && !taken.contains(named)) {
                    g = emitter.emitTo("", "Identity", List.of(g), emitter.fresh(named));
                }
                emitter.emitTo(Onnx.MICROSOFT, "InPlaceAccumulatorV2",
                        List.of(names.buffers().get(p), g, names.reset()), names.flags().get(p));
            }
        }

        private ModelProto trainingModel(GraphEmitter emitter, Names names, List<String> trainable,
                List<ValueInfoProto> userInputs, List<ValueInfoProto> parameterInputs, List<TensorProto> constants,
                LossNodes lossNodes, TensorProto seedTensor) {
            List<ValueInfoProto> inputs = new ArrayList<>(userInputs);
            inputs.add(lossNodes.labelInfo());
            inputs.addAll(parameterInputs);
            for (String p : trainable) {
                inputs.add(Onnx.valueInfo(names.buffers().get(p), Onnx.FLOAT, Onnx.dims(initializers.get(p))));
            }
            inputs.add(Onnx.valueInfo(names.reset(), Onnx.BOOL, 1));
            List<ValueInfoProto> outputs = new ArrayList<>();
            outputs.add(Onnx.valueInfo(names.loss(), Onnx.FLOAT));
            for (String p : trainable) {
                outputs.add(Onnx.valueInfo(names.flags().get(p), Onnx.BOOL, 1));
            }
            List<NodeProto> nodes = new ArrayList<>(graph.getNodeList());
            nodes.addAll(lossNodes.train());
            nodes.addAll(emitter.nodes());
            List<TensorProto> trainConstants = new ArrayList<>(constants);
            trainConstants.addAll(lossNodes.constants());
            trainConstants.add(seedTensor);
            trainConstants.addAll(emitter.initializers());
            return model("training", inputs, outputs, nodes, trainConstants);
        }

        private ModelProto evalModel(Names names, List<ValueInfoProto> userInputs, List<ValueInfoProto> parameterInputs,
                List<TensorProto> constants, LossNodes lossNodes, String out, ShapeOracle.TensorType outType) {
            List<ValueInfoProto> inputs = new ArrayList<>(userInputs);
            inputs.add(lossNodes.labelInfo());
            inputs.addAll(parameterInputs);
            List<ValueInfoProto> outputs = List.of(Onnx.valueInfo(names.loss(), Onnx.FLOAT),
                    Onnx.valueInfo(out, Onnx.FLOAT, outType.dims()));
            List<NodeProto> nodes = new ArrayList<>(graph.getNodeList());
            nodes.addAll(lossNodes.eval());
            List<TensorProto> evalConstants = new ArrayList<>(constants);
            evalConstants.addAll(lossNodes.constants());
            return model("eval", inputs, outputs, nodes, evalConstants);
        }

        private Checkpoint checkpoint(List<String> parameters, List<String> trainable) {
            List<CheckpointTensor> trainableTensors = new ArrayList<>();
            List<CheckpointTensor> frozenTensors = new ArrayList<>();
            for (String p : parameters) {
                TensorProto t = initializers.get(p);
                CheckpointTensor c = new CheckpointTensor(p, Onnx.dims(t), Onnx.FLOAT, Onnx.rawBytes(t), List.of());
                (trainable.contains(p) ? trainableTensors : frozenTensors).add(c);
            }
            return Checkpoint.ofParameters(trainableTensors, frozenTensors);
        }

        private List<String> chooseTrainable(List<String> parameters) {
            List<String> chosen;
            if (allTrainable) {
                chosen = parameters;
            } else if (trainablePattern != null) {
                chosen = parameters.stream().filter(p -> trainablePattern.matcher(p).matches()).toList();
                if (chosen.isEmpty()) {
                    throw new GraphException("no float initializer matches /" + trainablePattern.pattern()
                            + "/; initializers: " + abbreviate(parameters));
                }
            } else if (trainableNames != null) {
                for (String name : trainableNames) {
                    if (!initializers.containsKey(name)) {
                        throw new GraphException("no initializer named '" + name + "'; initializers: " + abbreviate(parameters));
                    }
                    if (initializers.get(name).getDataType() != Onnx.FLOAT) {
                        throw new GraphException("initializer '" + name + "' has element type "
                                + initializers.get(name).getDataType() + "; only float initializers can be trained");
                    }
                }
                chosen = parameters.stream().filter(trainableNames::contains).toList();
            } else {
                throw new GraphException("no trainable parameters chosen: name them, give a pattern, or make all trainable");
            }
            if (chosen.isEmpty()) {
                throw new GraphException("the model has no float initializers to train");
            }
            return chosen;
        }

        private String chooseOutput() {
            List<String> outputs = graph.getOutputList().stream().map(ValueInfoProto::getName).toList();
            if (output != null) {
                if (!outputs.contains(output) && !producers.containsKey(output)) {
                    throw new GraphException("no output named '" + output + "'; outputs: " + outputs);
                }
                return output;
            }
            if (outputs.size() != 1) {
                throw new GraphException("model has " + outputs.size() + " outputs " + outputs + "; choose the one to train");
            }
            return outputs.get(0);
        }

        private ModelProto model(String suffix, List<ValueInfoProto> inputs, List<ValueInfoProto> outputs,
                List<NodeProto> nodes, List<TensorProto> constants) {
            List<NodeProto> kept = prune(nodes, outputs);
            Set<String> used = new HashSet<>();
            kept.forEach(n -> used.addAll(n.getInputList()));
            GraphProto.Builder g = GraphProto.newBuilder()
                    .setName((graph.getName().isBlank() ? "model" : graph.getName()) + "_" + suffix)
                    .addAllInput(inputs).addAllOutput(outputs).addAllNode(kept);
            constants.stream().filter(c -> used.contains(c.getName())).forEach(g::addInitializer);
            ModelProto.Builder m = ModelProto.newBuilder()
                    .setIrVersion(Math.max(IR_VERSION, model.getIrVersion()))
                    .setProducerName("onnx-microkernel")
                    .setGraph(g);
            m.addAllFunctions(model.getFunctionsList());
            for (OperatorSetIdProto o : model.getOpsetImportList()) {
                String d = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
                if (d.isEmpty()) {
                    m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("")
                            .setVersion(Math.max(TARGET_OPSET, o.getVersion())));
                } else if (!d.equals(Onnx.MICROSOFT)) {
                    m.addOpsetImport(o);
                }
            }
            m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(Onnx.MICROSOFT).setVersion(
                    Math.max(1, Onnx.opset(model, Onnx.MICROSOFT))));
            return m.build();
        }

        private ModelProto optimizer() {
            GraphProto.Builder g = GraphProto.newBuilder().setName("AdamW_optimizer")
                    .addInput(Onnx.valueInfo("learning_rate", Onnx.FLOAT, 1))
                    .addInput(Onnx.valueInfo("step", Onnx.INT64, 1))
                    .addInput(Onnx.sequenceInfo("params", Onnx.FLOAT))
                    .addInput(Onnx.sequenceInfo("gradients", Onnx.FLOAT))
                    .addInput(Onnx.sequenceInfo("first_order_moments", Onnx.FLOAT))
                    .addInput(Onnx.sequenceInfo("second_order_moments", Onnx.FLOAT))
                    .addOutput(Onnx.valueInfo("updated_flag", Onnx.BOOL, 1))
                    .addNode(Onnx.node(Onnx.MICROSOFT, "AdamWOptimizer", "AdamWOptimizer",
                            List.of("learning_rate", "step", "params", "gradients", "first_order_moments",
                                    "second_order_moments"),
                            List.of("updated_flag"),
                            attr("alpha", (float) alpha), attr("beta", (float) beta), attr("epsilon", (float) epsilon),
                            attr("weight_decay", (float) weightDecay), attr("adam_mode", 1L), attr("correct_bias", 1L)));
            return ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("onnx-microkernel").setGraph(g)
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(TARGET_OPSET))
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(Onnx.MICROSOFT).setVersion(1))
                    .build();
        }
    }

    /** Keeps only the nodes the outputs depend on, in their original order. */
    static List<NodeProto> prune(List<NodeProto> nodes, List<ValueInfoProto> outputs) {
        Set<String> needed = new HashSet<>();
        outputs.forEach(o -> needed.add(o.getName()));
        boolean[] keep = new boolean[nodes.size()];
        for (int i = nodes.size() - 1; i >= 0; i--) {
            NodeProto n = nodes.get(i);
            if (n.getOutputList().stream().anyMatch(needed::contains)) {
                keep[i] = true;
                needed.addAll(n.getInputList());
            }
        }
        List<NodeProto> kept = new ArrayList<>();
        for (int i = 0; i < keep.length; i++) {
            if (keep[i]) {
                kept.add(nodes.get(i));
            }
        }
        return kept;
    }

    private static String abbreviate(List<String> names) {
        if (names.size() <= 12) {
            return names.toString();
        }
        return names.subList(0, 12) + " and " + (names.size() - 12) + " more";
    }
}
