package io.microkernel.compiler;

import io.microkernel.artifacts.ArtifactException;
import io.microkernel.artifacts.ParameterSpec;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.LossKind;
import io.microkernel.testing.TinyModels;
import io.microkernel.testing.Training;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.artifacts.checkpoint.CheckpointTensor;
import io.microkernel.artifacts.Onnx;
import io.microkernel.runtime.OrtRuntime;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactBuilderTest {

    @TempDir
    Path dir;

    private final OrtEnvironment env = OrtRuntime.bundled().environment();
    private final float[][] x = TinyModels.dataset(64, 4, 7);
    private final long[] y = TinyModels.labels(x);

    @Test
    void builtClassifierTrainsInOnnxRuntime() throws Exception {
        ArtifactSet set = ArtifactBuilder.fromModel(TinyModels.classifier(1))
                .trainablePattern(Pattern.compile("head\\..*"))
                .classNames(List.of("a", "b", "c"))
                .build(env, dir.resolve("set"));

        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
            assertThat(session.getTrainInputNames()).containsExactly("input", "labels");
            assertThat(session.getEvalInputNames()).containsExactly("input", "labels");
            session.setLearningRate(0.05f);
            List<Float> losses = Training.steps(env, session, x, y, 60);
            assertThat(losses.get(59)).isLessThan(losses.get(0) * 0.7f);
            assertThat(losses).allMatch(Float::isFinite);
        }
    }

    @Test
    void trainingGraphFollowsTheStandardLayout() {
        ArtifactSet set = ArtifactBuilder.fromModel(TinyModels.classifier(1))
                .trainable(List.of("head.weight", "head.bias")).build(env, dir.resolve("set"));

        ModelProto training = Onnx.read(set.trainingModel());
        assertThat(TinyModels.names(training.getGraph().getInputList())).containsExactly(
                "input", "labels", "backbone.w1", "backbone.b1", "backbone.w2", "head.weight", "head.bias",
                "head.weight_grad.accumulation.buffer", "head.bias_grad.accumulation.buffer", "lazy_reset_grad");
        assertThat(TinyModels.names(training.getGraph().getOutputList())).containsExactly(
                "loss", "head.weight_grad.accumulation.out", "head.bias_grad.accumulation.out");
        assertThat(training.getGraph().getInitializerList()).extracting(t -> t.getName()).contains("loss_grad");
        assertThat(training.getOpsetImportList()).anySatisfy(o -> {
            assertThat(o.getDomain()).isEmpty();
            assertThat(o.getVersion()).isEqualTo(17);
        }).anySatisfy(o -> {
            assertThat(o.getDomain()).isEqualTo("com.microsoft");
            assertThat(o.getVersion()).isEqualTo(1);
        });
        assertThat(training.getGraph().getNodeList()).extracting(NodeProto::getOpType)
                .contains("SoftmaxCrossEntropyLoss", "SoftmaxCrossEntropyLossGrad", "InPlaceAccumulatorV2")
                .as("the folded softmax is not needed to train").doesNotContain("Softmax");

        ModelProto eval = Onnx.read(set.evalModel());
        assertThat(TinyModels.names(eval.getGraph().getOutputList())).containsExactly("loss", "probabilities");
        assertThat(eval.getGraph().getNodeList()).extracting(NodeProto::getOpType).contains("Softmax");

        ModelProto optimizer = Onnx.read(set.optimizerModel());
        NodeProto adamw = optimizer.getGraph().getNode(0);
        assertThat(optimizer.getGraph().getNodeCount()).isEqualTo(1);
        assertThat(adamw.getOpType()).isEqualTo("AdamWOptimizer");
        assertThat(adamw.getDomain()).isEqualTo("com.microsoft");

        Checkpoint checkpoint = Checkpoint.read(set.checkpoint());
        assertThat(checkpoint.trainable()).extracting(CheckpointTensor::name).containsExactly("head.weight", "head.bias");
        assertThat(checkpoint.frozen()).extracting(CheckpointTensor::name)
                .containsExactly("backbone.w1", "backbone.b1", "backbone.w2");
        assertThat(checkpoint.optimizerGroups()).isEmpty();
    }

    @Test
    void adamWHyperParametersReachTheOptimizerGraph() {
        ArtifactSet set = ArtifactBuilder.fromModel(TinyModels.classifier(1)).allTrainable()
                .adamW(0.8, 0.99, 1e-8, 0.01).build(env, dir.resolve("set"));

        NodeProto adamw = Onnx.read(set.optimizerModel()).getGraph().getNode(0);
        assertThat(Onnx.floatAttr(adamw, "alpha", 0)).isEqualTo(0.8f);
        assertThat(Onnx.floatAttr(adamw, "beta", 0)).isEqualTo(0.99f);
        assertThat(Onnx.floatAttr(adamw, "epsilon", 0)).isEqualTo(1e-8f);
        assertThat(Onnx.floatAttr(adamw, "weight_decay", 0)).isEqualTo(0.01f);
        assertThat(set.description().trainable()).hasSize(5);
        assertThat(set.description().frozen()).isEmpty();
    }

    @Test
    void everythingTrainableTrainsTheBackboneToo() throws Exception {
        ArtifactSet set = ArtifactBuilder.fromModel(TinyModels.classifier(2)).allTrainable().build(env, dir.resolve("all"));
        Checkpoint before = Checkpoint.read(set.checkpoint());
        Path saved = dir.resolve("saved");
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
            session.setLearningRate(0.02f);
            List<Float> losses = Training.steps(env, session, x, y, 40);
            assertThat(losses.get(39)).isLessThan(losses.get(0) * 0.7f);
            session.saveCheckpoint(saved, false);
        }
        Checkpoint after = Checkpoint.read(saved);
        assertThat(after.parameter("backbone.w1").orElseThrow().floats())
                .isNotEqualTo(before.parameter("backbone.w1").orElseThrow().floats());
    }

    @Test
    void mseRegressionTrains() throws Exception {
        ArtifactSet set = ArtifactBuilder.fromModel(TinyModels.regression(8)).loss(LossKind.MSE)
                .trainable(List.of("w2", "b2")).build(env, dir.resolve("mse"));
        float[][] targets = new float[x.length][2];
        for (int i = 0; i < x.length; i++) {
            targets[i][0] = x[i][0] > 0 ? 0.9f : 0.1f;
            targets[i][1] = x[i][1] > 0 ? 0.8f : 0.2f;
        }
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
            session.setLearningRate(0.05f);
            List<Float> losses = Training.steps(env, session, x, targets, 60);
            assertThat(losses.get(59)).isLessThan(losses.get(0) * 0.7f);
        }
    }

    @Test
    void frozenPartMayUseAnyOperator() throws Exception {
        // Sin, Cos and ReduceMax have no gradient here, but they only feed the frozen backbone.
        ModelProto model = new TinyModels.Graph("exotic", 3)
                .input("input", Onnx.FLOAT, -1, 4).weight("w0", 0.7, 4, 8).weight("head.w", 0.3, 8, 3)
                .ints("axes", 1)
                .node("MatMul", List.of("input", "w0"), List.of("h"))
                .node("Sin", List.of("h"), List.of("s"))
                .node("Cos", List.of("h"), List.of("c"))
                .node("ReduceMax", List.of("c"), List.of("m"), Onnx.attr("keepdims", 1L))
                .node("Add", List.of("s", "m"), List.of("features"))
                .node("MatMul", List.of("features", "head.w"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build();

        ArtifactSet set = ArtifactBuilder.fromModel(model).trainable(List.of("head.w")).build(env, dir.resolve("exotic"));

        assertThat(set.description().inferenceOutput()).isEqualTo("logits");
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
            session.setLearningRate(0.05f);
            List<Float> losses = Training.steps(env, session, x, y, 30);
            assertThat(losses.get(29)).isLessThan(losses.get(0));
        }
    }

    // ------------------------------------------------------------ errors

    @Test
    void unsupportedOperatorOnTheTrainablePathNamesNodeAndOperator() {
        ModelProto model = new TinyModels.Graph("sine", 3)
                .input("input", Onnx.FLOAT, -1, 4).weight("w", 0.5, 4, 3)
                .node(Onnx.node("MatMul", "project", List.of("input", "w"), List.of("h")))
                .node(Onnx.node("Sin", "wave", List.of("h"), List.of("logits")))
                .output("logits", Onnx.FLOAT, -1, 3).build();

        assertThatThrownBy(() -> ArtifactBuilder.fromModel(model).allTrainable().build(env, dir.resolve("x")))
                .isInstanceOf(ArtifactException.class)
                .hasMessageStartingWith("sine.onnx: node 'wave': operator Sin is on the trainable path but has no gradient here;")
                .hasMessageEndingWith("freeze the parameters before it")
                .extracting(Throwable::getMessage).matches(m -> !((String) m).contains("\n"));
    }

    @Test
    void unknownTrainableNameIsNamed() {
        assertThatThrownBy(() -> ArtifactBuilder.fromModel(TinyModels.classifier(1)).trainable(List.of("head.w"))
                .build(env, dir.resolve("x")))
                .hasMessage("classifier.onnx: no initializer named 'head.w'; initializers: "
                        + "[backbone.w1, backbone.b1, backbone.w2, head.weight, head.bias]");
    }

    @Test
    void patternThatMatchesNothingIsNamed() {
        assertThatThrownBy(() -> ArtifactBuilder.fromModel(TinyModels.classifier(1))
                .trainablePattern(Pattern.compile("fc\\..*")).build(env, dir.resolve("x")))
                .hasMessageStartingWith("classifier.onnx: no float initializer matches /fc\\..*/");
    }

    @Test
    void noTrainableChoiceIsAnError() {
        assertThatThrownBy(() -> ArtifactBuilder.fromModel(TinyModels.classifier(1)).build(env, dir.resolve("x")))
                .hasMessage("classifier.onnx: no trainable parameters chosen: name them, give a pattern, or make all trainable");
    }

    @Test
    void parameterThatDoesNotReachTheLossIsNamed() {
        ModelProto model = new TinyModels.Graph("two_heads", 3)
                .input("input", Onnx.FLOAT, -1, 4).weight("a", 0.5, 4, 3).weight("b", 0.5, 4, 2)
                .node("MatMul", List.of("input", "a"), List.of("scores"))
                .node("MatMul", List.of("input", "b"), List.of("other"))
                .output("scores", Onnx.FLOAT, -1, 3).output("other", Onnx.FLOAT, -1, 2).build();

        assertThatThrownBy(() -> ArtifactBuilder.fromModel(model).allTrainable().output("scores").build(env, dir.resolve("x")))
                .hasMessage("two_heads.onnx: trainable parameter 'b' does not influence 'scores'; freeze it or choose another output");
        assertThatThrownBy(() -> ArtifactBuilder.fromModel(model).allTrainable().build(env, dir.resolve("x")))
                .hasMessage("two_heads.onnx: model has 2 outputs [scores, other]; choose the one to train");
        assertThatThrownBy(() -> ArtifactBuilder.fromModel(model).allTrainable().output("nope").build(env, dir.resolve("x")))
                .hasMessage("two_heads.onnx: no output named 'nope'; outputs: [scores, other]");

        ArtifactSet set = ArtifactBuilder.fromModel(model).trainable(List.of("a")).output("scores").build(env, dir.resolve("ok"));
        assertThat(set.description().inferenceOutput()).isEqualTo("scores");
        assertThat(set.description().frozen()).extracting(ParameterSpec::name).containsExactly("b");
    }

    @Test
    void oldOpsetIsRefused() {
        ModelProto model = new TinyModels.Graph("old", 3).opset(11)
                .input("input", Onnx.FLOAT, -1, 4).weight("w", 0.5, 4, 3)
                .node("MatMul", List.of("input", "w"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build();

        assertThatThrownBy(() -> ArtifactBuilder.fromModel(model).allTrainable().build(env, dir.resolve("x")))
                .hasMessage("old.onnx: model imports ONNX opset 11; expected 13 or later (convert it with onnx.version_converter)");
    }

    @Test
    void missingModelFileIsNamed() {
        Path missing = dir.resolve("absent.onnx");
        assertThatThrownBy(() -> ArtifactBuilder.fromModel(missing)).isInstanceOf(ArtifactException.class)
                .hasMessage(missing + ": missing ONNX model file");
    }

    @Test
    void crossEntropyNeedsClassScores() {
        ModelProto model = new TinyModels.Graph("flat", 3)
                .input("input", Onnx.FLOAT, -1, 4).weight("w", 0.5, 4)
                .node("Mul", List.of("input", "w"), List.of("m"))
                .node("ReduceSum", List.of("m"), List.of("score"), Onnx.attr("keepdims", 0L))
                .output("score", Onnx.FLOAT).build();

        assertThatThrownBy(() -> ArtifactBuilder.fromModel(model).allTrainable().build(env, dir.resolve("x")))
                .hasMessage("flat.onnx: cross-entropy needs scores of shape [batch, classes], but 'score' has rank 0");
    }

    static List<String> names(List<ValueInfoProto> infos) {
        return TinyModels.names(infos);
    }
}
