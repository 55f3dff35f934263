package io.microkernel.artifacts;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The frontier of {@code models/default} and the cases that cannot be cut. */
class FrozenFrontierTest {

    private final ArtifactSet set = ArtifactSet.open(Path.of("models/default"));
    private final ModelProto training = Onnx.read(set.trainingModel());
    private final ModelProto eval = Onnx.read(set.evalModel());
    private final List<String> inputs = set.description().inputs().stream().map(s -> s.name()).toList();
    private final List<String> trainable = set.description().trainable().stream().map(ParameterSpec::name).toList();
    private final List<String> frozen = set.description().frozen().stream().map(ParameterSpec::name).toList();

    private FrozenFrontier.Result find(ModelProto training, ModelProto eval) {
        return FrozenFrontier.find(training, eval, inputs, trainable, frozen);
    }

    @Test
    void theDefaultModelIsCutWhereItsHeadBegins() {
        FrozenFrontier.Cut cut = (FrozenFrontier.Cut) find(training, eval);

        assertThat(cut.features()).hasSize(1);
        assertThat(cut.rawInputs()).isEmpty();
        assertThat(cut.frozenParameters()).containsExactlyInAnyOrderElementsOf(frozen);
        String feature = cut.features().get(0);
        ValueInfoProto info = Onnx.valueInfo(feature, Onnx.FLOAT, -1, 8);
        ModelProto cutTraining = cut.cutTraining(Map.of(feature, info));
        GraphProto g = cutTraining.getGraph();
        assertThat(g.getInput(0).getName()).isEqualTo(feature);
        assertThat(g.getInputList()).extracting(ValueInfoProto::getName).doesNotContainAnyElementsOf(inputs)
                .contains(TrainingGraphNames.LAZY_RESET_GRAD).containsAll(trainable);
        assertThat(g.getNodeList()).noneMatch(n -> n.getOpType().equals("Conv"));
        assertThat(g.getOutputList()).isEqualTo(training.getGraph().getOutputList());

        ModelProto part = cut.frozenPart(Checkpoint.read(set.checkpoint()));
        assertThat(part.getGraph().getInputList()).extracting(ValueInfoProto::getName).containsExactlyElementsOf(inputs);
        assertThat(part.getGraph().getOutputList()).extracting(ValueInfoProto::getName).containsExactly(feature);
        assertThat(part.getGraph().getInitializerList()).extracting(t -> t.getName()).containsAll(frozen);
    }

    @Test
    void controlFlowIsNotCut() {
        NodeProto loop = NodeProto.newBuilder().setOpType("If").setName("branch").addInput(inputs.get(0))
                .addOutput("chosen").addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("then_branch")
                        .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.GRAPH)
                        .setG(GraphProto.newBuilder().setName("then")))
                .build();
        ModelProto withIf = training.toBuilder().setGraph(training.getGraph().toBuilder().addNode(0, loop)).build();

        assertThat(find(withIf, eval)).isInstanceOfSatisfying(FrozenFrontier.Uncut.class,
                u -> assertThat(u.reason()).contains("control-flow operator If"));
    }

    @Test
    void aDropoutInTheBackboneMovesTheCutInFrontOfIt() {
        FrozenFrontier.Cut before = (FrozenFrontier.Cut) find(training, eval);
        String feature = before.features().get(0);
        ModelProto withDropout = withDropoutOn(training, feature);
        ModelProto evalWithDropout = withDropoutOn(eval, feature);

        FrozenFrontier.Cut cut = (FrozenFrontier.Cut) find(withDropout, evalWithDropout);

        assertThat(cut.features()).containsExactly(feature);
        assertThat(cut.cutTraining(Map.of(feature, Onnx.valueInfo(feature, Onnx.FLOAT, -1, 8))).getGraph()
                .getNodeList()).anyMatch(n -> n.getOpType().equals("Dropout"));
    }

    /** Inserts a Dropout right after {@code tensor}: its readers read the dropped-out copy. */
    private static ModelProto withDropoutOn(ModelProto model, String tensor) {
        GraphProto.Builder g = model.getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto.Builder n = g.getNode(i).toBuilder();
            for (int k = 0; k < n.getInputCount(); k++) {
                if (n.getInput(k).equals(tensor)) {
                    n.setInput(k, tensor + ".dropped");
                }
            }
            g.setNode(i, n);
        }
        int at = 0;
        while (!g.getNode(at).getOutputList().contains(tensor)) {
            at++;
        }
        g.addNode(at + 1, Onnx.node("Dropout", "drop", List.of(tensor), List.of(tensor + ".dropped")));
        return model.toBuilder().setGraph(g).build();
    }

    @Test
    void anEvalGraphWhoseFrozenWorkEndsAtATensorTheTrainingGraphLacksIsNotCut() {
        FrozenFrontier.Cut cut = (FrozenFrontier.Cut) find(training, eval);
        String feature = cut.features().get(0);
        GraphProto.Builder g = eval.getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto.Builder n = g.getNode(i).toBuilder();
            for (int k = 0; k < n.getInputCount(); k++) {
                if (n.getInput(k).equals(feature)) {
                    n.setInput(k, "renamed");
                }
            }
            for (int k = 0; k < n.getOutputCount(); k++) {
                if (n.getOutput(k).equals(feature)) {
                    n.setOutput(k, "renamed");
                }
            }
            g.setNode(i, n);
        }

        assertThat(find(training, eval.toBuilder().setGraph(g).build())).isInstanceOfSatisfying(
                FrozenFrontier.Uncut.class, u -> assertThat(u.reason()).contains("'renamed'"));
    }
}
