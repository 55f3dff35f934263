package io.microkernel.artifacts;

import io.microkernel.testing.TinyModels;
import io.microkernel.testing.Training;
import io.microkernel.tensor.TensorSpec;
import io.microkernel.tensor.DType;
import io.microkernel.compiler.ArtifactBuilder;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.artifacts.checkpoint.CheckpointTensor;
import io.microkernel.artifacts.Onnx;
import io.microkernel.runtime.OrtRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactSetTest {

    @TempDir
    Path tmp;

    private final OrtEnvironment env = OrtRuntime.bundled().environment();
    private Path dir;
    private final float[][] x = TinyModels.dataset(48, 4, 3);
    private final long[] y = TinyModels.labels(x);

    @BeforeEach
    void buildClassifier() {
        dir = tmp.resolve("classifier");
        ArtifactBuilder.fromModel(TinyModels.classifier(5)).trainablePattern(Pattern.compile("head\\..*")).build(env, dir);
    }

    // ------------------------------------------------------------ description

    @Test
    void describesASetWithoutManifestFromItsGraphsAndCheckpoint() {
        ArtifactSet set = ArtifactSet.open(dir);

        assertThat(set.manifest()).isEmpty();
        assertThat(Files.exists(dir.resolve(ArtifactSet.MANIFEST))).isFalse();
        ArtifactDescription d = set.description();
        assertThat(d.inputs()).containsExactly(new TensorSpec("input", DType.FLOAT, List.of(-1L, 4L)));
        assertThat(d.label()).isEqualTo(new TensorSpec("labels", DType.INT64, List.of(-1L)));
        assertThat(d.loss()).isEqualTo(LossKind.CROSS_ENTROPY);
        assertThat(d.inferenceOutput()).isEqualTo("probabilities");
        assertThat(d.trainable()).containsExactly(
                new ParameterSpec("head.weight", List.of(3L, 8L), 24),
                new ParameterSpec("head.bias", List.of(3L), 3));
        assertThat(d.frozen()).extracting(ParameterSpec::name).containsExactly("backbone.w1", "backbone.b1", "backbone.w2");
        assertThat(d.frozenCount()).isEqualTo(4 * 6 + 6 + 6 * 8);
        assertThat(d.numClasses()).isEqualTo(3);
        assertThat(d.classNames()).containsExactly("0", "1", "2");
    }

    @Test
    void findsTheProbabilitiesWhenTheEvalGraphOutputsOnlyTheLoss() {
        // Python-made sets often output only the loss from the eval graph.
        rewrite(ArtifactSet.EVAL_MODEL, g -> {
            ValueInfoProto loss = g.getOutput(0);
            g.clearOutput().addOutput(loss);
        });

        assertThat(ArtifactSet.open(dir).description().inferenceOutput()).isEqualTo("probabilities");
        assertThat(ArtifactSet.open(dir).description().numClasses()).isEqualTo(3);
    }

    @Test
    void describesAnMseSetAndItsPrediction() {
        Path mse = tmp.resolve("mse");
        ArtifactBuilder.fromModel(TinyModels.regression(8)).loss(LossKind.MSE).trainable(List.of("w2", "b2")).build(env, mse);
        Path stripped = tmp.resolve("mse-loss-only");
        copy(mse, stripped);
        dir = stripped;
        rewrite(ArtifactSet.EVAL_MODEL, g -> {
            ValueInfoProto loss = g.getOutput(0);
            g.clearOutput().addOutput(loss);
        });

        for (Path p : List.of(mse, stripped)) {
            ArtifactDescription d = ArtifactSet.open(p).description();
            assertThat(d.loss()).isEqualTo(LossKind.MSE);
            assertThat(d.label()).isEqualTo(new TensorSpec("labels", DType.FLOAT, List.of(-1L, 2L)));
            assertThat(d.inferenceOutput()).isEqualTo("prediction");
            assertThat(d.numClasses()).isZero();
            assertThat(d.classNames()).isEmpty();
        }
    }

    @Test
    void manifestAddsClassNamesAndOverridesTheInferenceOutput() throws Exception {
        Files.writeString(dir.resolve(ArtifactSet.MANIFEST),
                "{\"classes\":[\"cat\",\"dog\",\"owl\"],\"inference_output\":\"logits\",\"description\":\"t\"}");

        ArtifactSet set = ArtifactSet.open(dir);

        assertThat(set.manifest()).contains(dir.toAbsolutePath().normalize().resolve(ArtifactSet.MANIFEST));
        assertThat(set.description().classNames()).containsExactly("cat", "dog", "owl");
        assertThat(set.description().inferenceOutput()).isEqualTo("logits");
    }

    @Test
    void builderWritesClassNamesToTheManifest() {
        Path named = tmp.resolve("named");
        ArtifactSet set = ArtifactBuilder.fromModel(TinyModels.classifier(5)).trainable(List.of("head.weight", "head.bias"))
                .classNames(List.of("red", "green", "blue")).learningRateHint(0.02).build(env, named);

        Manifest m = Manifest.read(named.resolve(ArtifactSet.MANIFEST));
        assertThat(m.classes()).containsExactly("red", "green", "blue");
        assertThat(m.inferenceOutput()).isEqualTo("probabilities");
        assertThat(m.label()).isEqualTo("labels");
        assertThat(m.lossKind()).contains(LossKind.CROSS_ENTROPY);
        assertThat(m.learningRate()).isEqualTo(0.02);
        assertThat(set.description().classNames()).containsExactly("red", "green", "blue");
    }

    // ------------------------------------------------------------ training, saving, exporting

    @Test
    void savedCheckpointKeepsTrainedParametersAndLoadsBack() throws Exception {
        ArtifactSet set = ArtifactSet.open(dir);
        Checkpoint initial = Checkpoint.read(set.checkpoint());
        Path saved = tmp.resolve("saved.ckpt");
        Path again = tmp.resolve("again.ckpt");
        float trainedLoss;
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
            List<Float> losses = Training.steps(env, session, x, y, 20);
            assertThat(losses.get(19)).isLessThan(losses.get(0));
            trainedLoss = Training.evalLoss(env, session, x, y);
            session.saveCheckpoint(saved, true);
        }

        Checkpoint trained = Checkpoint.read(saved);
        assertThat(trained.trainable()).extracting(CheckpointTensor::name).containsExactlyInAnyOrder("head.weight", "head.bias");
        for (CheckpointTensor p : trained.trainable()) {
            assertThat(p.floats()).as(p.name() + " moved").isNotEqualTo(initial.parameter(p.name()).orElseThrow().floats());
        }
        for (CheckpointTensor p : trained.frozen()) {
            assertThat(p.floats()).as(p.name() + " frozen").isEqualTo(initial.parameter(p.name()).orElseThrow().floats());
        }
        assertThat(trained.optimizerGroups()).singleElement().satisfies(g -> {
            assertThat(g.name()).isEqualTo("group0");
            assertThat(g.step()).isEqualTo(20);
            assertThat(g.states()).extracting(Checkpoint.ParameterState::parameter)
                    .containsExactlyInAnyOrder("head.weight", "head.bias");
            assertThat(g.states()).allSatisfy(s -> assertThat(s.momentums()).extracting(CheckpointTensor::name)
                    .containsExactlyInAnyOrder("momentum0", "momentum1"));
        });

        // Reload in a fresh session: same loss, and saving again keeps every value.
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, saved, options)) {
            assertThat(Training.evalLoss(env, session, x, y)).isCloseTo(trainedLoss, within(1e-6f));
            session.saveCheckpoint(again, true);
        }
        Checkpoint reloaded = Checkpoint.read(again);
        for (CheckpointTensor p : trained.parameters()) {
            assertThat(reloaded.parameter(p.name()).orElseThrow().floats()).isEqualTo(p.floats());
        }
        assertThat(reloaded.optimizerGroups().get(0).step()).isEqualTo(20);
    }

    @Test
    void checkpointRewrittenByThisCodecLoadsInOnnxRuntime() throws Exception {
        ArtifactSet set = ArtifactSet.open(dir);
        Path saved = tmp.resolve("saved.ckpt");
        float loss;
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
            Training.steps(env, session, x, y, 5);
            loss = Training.evalLoss(env, session, x, y);
            session.saveCheckpoint(saved, true);
        }
        Path rewritten = tmp.resolve("rewritten.ckpt");
        Checkpoint.read(saved).write(rewritten);

        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, rewritten, options)) {
            assertThat(Training.evalLoss(env, session, x, y)).isCloseTo(loss, within(1e-6f));
            List<Float> more = Training.steps(env, session, x, y, 5);
            assertThat(more.get(4)).isLessThan(loss);
        }
    }

    @Test
    void exportedInferenceModelIsTheOriginalModelWithTheCheckpointsParameters() throws Exception {
        ArtifactSet set = ArtifactSet.open(dir);
        Path exported = tmp.resolve("inference.onnx");
        set.exportInference(env, set.checkpoint(), exported);

        Path original = tmp.resolve("original.onnx");
        Onnx.write(TinyModels.classifier(5), original);
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtSession a = env.createSession(exported.toString(), options);
                OrtSession b = env.createSession(original.toString(), options)) {
            assertThat(a.getInputNames()).containsExactly("input");
            assertThat(a.getOutputNames()).containsExactly("probabilities");
            float[][] pa = Training.infer(env, a, x);
            float[][] pb = Training.infer(env, b, x);
            for (int i = 0; i < x.length; i++) {
                assertThat(pa[i]).containsExactly(pb[i], within(1e-6f));
                float sum = 0;
                for (float v : pa[i]) {
                    sum += v;
                }
                assertThat(sum).as("softmax kept in the exported model").isCloseTo(1f, within(1e-5f));
            }
        }
    }

    @Test
    void exportAfterTrainingAnswersLikeTheEvalGraph() throws Exception {
        ArtifactSet set = ArtifactSet.open(dir);
        Path saved = tmp.resolve("trained.ckpt");
        float[][] evalProbabilities;
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
            Training.steps(env, session, x, y, 10);
            evalProbabilities = Training.evalOutput(env, session, x, y);
            session.saveCheckpoint(saved, false);
        }
        Path exported = tmp.resolve("trained.onnx");
        set.exportInference(env, saved, exported);
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtSession s = env.createSession(exported.toString(), options)) {
            float[][] p = Training.infer(env, s, x);
            for (int i = 0; i < x.length; i++) {
                assertThat(p[i]).containsExactly(evalProbabilities[i], within(1e-5f));
            }
        }
    }

    @Test
    void modelExportedForInferenceCanBeBuiltAndTrainedAgain() throws Exception {
        ArtifactSet set = ArtifactSet.open(dir);
        Path exported = tmp.resolve("exported.onnx");
        set.exportInference(env, set.checkpoint(), exported);

        ArtifactSet rebuilt = ArtifactBuilder.fromModel(exported).trainable(List.of("head.weight", "head.bias"))
                .build(env, tmp.resolve("rebuilt"));

        assertThat(rebuilt.description().inferenceOutput()).isEqualTo("probabilities");
        assertThat(rebuilt.description().trainable()).extracting(ParameterSpec::name)
                .containsExactlyInAnyOrder("head.weight", "head.bias");
        try (OrtSession.SessionOptions options = Training.singleThreaded();
                OrtTrainingSession session = rebuilt.openTrainingSession(env, rebuilt.checkpoint(), options)) {
            session.setLearningRate(0.05f);
            List<Float> losses = Training.steps(env, session, x, y, 40);
            assertThat(losses.get(39)).isLessThan(losses.get(0) * 0.8f);
        }
    }

    // ------------------------------------------------------------ errors

    @Test
    void missingFileIsNamed() throws Exception {
        Files.delete(dir.resolve(ArtifactSet.EVAL_MODEL));

        assertOneLineError(() -> ArtifactSet.open(dir), dir.resolve(ArtifactSet.EVAL_MODEL),
                "missing file; an artifact set holds training_model.onnx, eval_model.onnx, optimizer_model.onnx and checkpoint");
    }

    @Test
    void missingFolderIsNamed() {
        assertOneLineError(() -> ArtifactSet.open(tmp.resolve("nowhere")), tmp.resolve("nowhere"), "missing artifact folder");
    }

    @Test
    void oldDirectoryCheckpointIsNamedBeforeOnnxRuntimeSeesIt() throws Exception {
        Path checkpoint = dir.resolve(ArtifactSet.CHECKPOINT);
        Files.delete(checkpoint);
        Files.createDirectory(checkpoint);
        Files.write(checkpoint.resolve("paramtrain_tensors.pbseq"), new byte[16]);
        String expected = "old directory-format checkpoint (written by ONNX Runtime 1.15 or earlier); expected a single"
                + " FlatBuffers file; regenerate the artifacts with ONNX Runtime 1.16 or later";

        assertOneLineError(() -> ArtifactSet.open(dir), checkpoint, expected);
    }

    @Test
    void openTrainingSessionRefusesADirectoryCheckpoint() throws Exception {
        ArtifactSet set = ArtifactSet.open(dir);
        Path old = tmp.resolve("old-checkpoint");
        Files.createDirectory(old);
        try (OrtSession.SessionOptions options = Training.singleThreaded()) {
            assertThatThrownBy(() -> set.openTrainingSession(env, old, options))
                    .isInstanceOf(ArtifactException.class)
                    .hasMessageStartingWith(old.toAbsolutePath() + ": old directory-format checkpoint");
        }
    }

    @Test
    void garbageCheckpointIsNotACheckpoint() throws Exception {
        Files.writeString(dir.resolve(ArtifactSet.CHECKPOINT), "PK\u0003\u0004 not flatbuffers");

        assertOneLineError(() -> ArtifactSet.open(dir), dir.resolve(ArtifactSet.CHECKPOINT),
                "not an ONNX Runtime training checkpoint: expected FlatBuffers file identifier 'ODTC', found ' not'");
    }

    @Test
    void checkpointParameterTheGraphLacksIsNamed() {
        Path file = dir.resolve(ArtifactSet.CHECKPOINT);
        Checkpoint c = Checkpoint.read(file);
        List<CheckpointTensor> frozen = new ArrayList<>(c.frozen());
        frozen.add(CheckpointTensor.ofFloats("ghost.weight", new long[] {2}, new float[] {1, 2}));
        Checkpoint.ofParameters(c.trainable(), frozen).write(file);

        assertOneLineError(() -> ArtifactSet.open(dir), dir.resolve(ArtifactSet.TRAINING_MODEL),
                "checkpoint parameter 'ghost.weight' is not an input of the graph");
    }

    @Test
    void checkpointParameterOfTheWrongShapeIsNamed() {
        Path file = dir.resolve(ArtifactSet.CHECKPOINT);
        Checkpoint c = Checkpoint.read(file);
        List<CheckpointTensor> trainable = c.trainable().stream()
                .map(t -> t.name().equals("head.bias") ? CheckpointTensor.ofFloats("head.bias", new long[] {4}, new float[4]) : t)
                .toList();
        Checkpoint.ofParameters(trainable, c.frozen()).write(file);

        assertOneLineError(() -> ArtifactSet.open(dir), dir.resolve(ArtifactSet.TRAINING_MODEL),
                "parameter 'head.bias' expects shape [3], the checkpoint holds [4]");
    }

    @Test
    void unsupportedLabelDtypeIsNamed() {
        for (String file : List.of(ArtifactSet.TRAINING_MODEL, ArtifactSet.EVAL_MODEL)) {
            rewrite(file, g -> {
                for (int i = 0; i < g.getInputCount(); i++) {
                    if (g.getInput(i).getName().equals("labels")) {
                        g.setInput(i, Onnx.valueInfo("labels", Onnx.FLOAT, -1));
                    }
                }
            });
        }

        assertOneLineError(() -> ArtifactSet.open(dir), dir.resolve(ArtifactSet.TRAINING_MODEL),
                "label 'labels' has dtype FLOAT; expected INT64 or INT32 class indices for cross-entropy");
    }

    @Test
    void corruptGraphIsNamed() throws Exception {
        Files.write(dir.resolve(ArtifactSet.TRAINING_MODEL), new byte[] {(byte) 0xff, (byte) 0xff, 0x01, 0x02});

        assertThatThrownBy(() -> ArtifactSet.open(dir)).isInstanceOf(ArtifactException.class)
                .hasMessageStartingWith(dir.resolve(ArtifactSet.TRAINING_MODEL) + ": not a valid ONNX model")
                .extracting(Throwable::getMessage).matches(m -> !((String) m).contains("\n"));
    }

    @Test
    void optimizerGraphWithOtherInputsIsNamed() {
        rewrite(ArtifactSet.OPTIMIZER_MODEL, g -> g.setInput(1, Onnx.valueInfo("steps", Onnx.INT64, 1)));

        assertOneLineError(() -> ArtifactSet.open(dir), dir.resolve(ArtifactSet.OPTIMIZER_MODEL),
                "expected an AdamW optimizer graph with inputs [learning_rate, step, params, gradients, "
                        + "first_order_moments, second_order_moments], found [learning_rate, steps, params, gradients, "
                        + "first_order_moments, second_order_moments]");
    }

    @Test
    void manifestClassCountMustMatchTheModel() throws Exception {
        Files.writeString(dir.resolve(ArtifactSet.MANIFEST), "{\"classes\":[\"a\",\"b\"]}");

        assertOneLineError(() -> ArtifactSet.open(dir), dir.resolve(ArtifactSet.MANIFEST),
                "\"classes\" names 2 classes, but the model scores 3");
    }

    @Test
    void manifestMayOnlyNameTensorsTheEvalGraphHas() throws Exception {
        Files.writeString(dir.resolve(ArtifactSet.MANIFEST), "{\"inference_output\":\"nope\"}");

        assertOneLineError(() -> ArtifactSet.open(dir), dir.resolve(ArtifactSet.MANIFEST),
                "\"inference_output\" names 'nope', which no node of eval_model.onnx produces");
    }

    @Test
    void malformedManifestIsNamed() throws Exception {
        Files.writeString(dir.resolve(ArtifactSet.MANIFEST), "{\"loss\":\"hinge\"}");

        assertOneLineError(() -> ArtifactSet.open(dir), dir.resolve(ArtifactSet.MANIFEST),
                "\"loss\" expected \"cross_entropy\" or \"mse\", found \"hinge\"");
    }

    // ------------------------------------------------------------ helpers

    private void assertOneLineError(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, Path file, String cause) {
        assertThatThrownBy(call).isInstanceOf(ArtifactException.class)
                .hasMessage(file.toAbsolutePath().normalize() + ": " + cause);
    }

    private void rewrite(String file, java.util.function.Consumer<GraphProto.Builder> change) {
        Path path = dir.resolve(file);
        ModelProto m = Onnx.read(path);
        GraphProto.Builder g = m.getGraph().toBuilder();
        change.accept(g);
        Onnx.write(m.toBuilder().setGraph(g).build(), path);
    }

    private static void copy(Path from, Path to) {
        try {
            Files.createDirectories(to);
            try (var files = Files.list(from)) {
                for (Path f : files.collect(Collectors.toList())) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
