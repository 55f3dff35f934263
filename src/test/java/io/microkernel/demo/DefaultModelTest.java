package io.microkernel.demo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.tensor.Scores;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.tensor.DType;
import io.microkernel.artifacts.LossKind;
import io.microkernel.artifacts.ParameterSpec;
import io.microkernel.demo.ShapeImages.Batch;
import io.microkernel.demo.ShapeImages.Domain;
import io.microkernel.runtime.OrtRuntime;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped {@code models/default}: what it is, and that training its head adapts it to the target style. */
class DefaultModelTest {

    private static final Path DEFAULT = Path.of("models", "default");

    @TempDir
    Path work;

    @Test
    void describesAsAShapeClassifierWithOnlyTheHeadTrainable() throws IOException {
        ArtifactDescription description = ArtifactSet.open(DEFAULT).description();
        assertThat(description.inputs()).hasSize(1);
        assertThat(description.inputs().get(0).name()).isEqualTo(ShapeClassifier.INPUT);
        assertThat(description.inputs().get(0).dtype()).isEqualTo(DType.FLOAT);
        assertThat(description.inputs().get(0).shape()).containsExactly(-1L, 1L, 16L, 16L);
        assertThat(description.inferenceOutput()).isEqualTo(ShapeClassifier.OUTPUT);
        assertThat(description.loss()).isEqualTo(LossKind.CROSS_ENTROPY);
        assertThat(description.classNames()).containsExactlyElementsOf(ShapeImages.CLASSES);
        assertThat(description.numClasses()).isEqualTo(ShapeImages.CLASSES.size());
        assertThat(description.trainable()).extracting(ParameterSpec::name)
                .containsExactlyInAnyOrderElementsOf(ShapeClassifier.HEAD_PARAMETERS);
        // Convolutions need few weights per feature, so the head over 1,024 features is a sizeable
        // share of the parameters; the backbone still holds most of them.
        assertThat(description.frozenCount()).isGreaterThan(5 * description.trainableCount());
        try (Stream<Path> files = Files.list(DEFAULT)) {
            assertThat(files.mapToLong(f -> f.toFile().length()).sum()).isLessThan(10L * 1024 * 1024);
        }
    }

    /**
     * The lift, with ONNX Runtime's training API as the service uses it: the shipped head is weak on
     * held-out target-style images, and a few epochs of head-only training on target samples fix that.
     */
    @Test
    void trainingTheHeadOnTargetSamplesLiftsHeldOutTargetAccuracy() throws OrtException {
        OrtEnvironment env = OrtRuntime.bundled().environment();
        ArtifactSet set = ArtifactSet.open(DEFAULT);
        Batch heldOut = DefaultModel.heldOut(Domain.TARGET, 99);
        Batch samples = DefaultModel.targetSamples(DefaultModel.LIFT_SAMPLES, 99);

        Path shipped = work.resolve("shipped.onnx");
        set.exportInference(env, set.checkpoint(), shipped);
        double before = accuracy(env, shipped, heldOut);

        Path trained = work.resolve("trained.ckpt");
        try (OrtSession.SessionOptions options = singleThreaded();
                OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
            session.setLearningRate((float) DefaultModel.HEAD_LEARNING_RATE);
            SplittableRandom shuffle = new SplittableRandom(5);
            for (int epoch = 0; epoch < DefaultModel.LIFT_EPOCHS; epoch++) {
                int[] order = shuffle.ints(0, samples.size()).distinct().limit(samples.size()).toArray();
                for (int from = 0; from < order.length; from += 32) {
                    int n = Math.min(32, order.length - from);
                    float[] pixels = new float[n * ShapeImages.PIXELS];
                    long[] labels = new long[n];
                    for (int i = 0; i < n; i++) {
                        System.arraycopy(samples.pixels()[order[from + i]], 0, pixels, i * ShapeImages.PIXELS,
                                ShapeImages.PIXELS);
                        labels[i] = samples.labels()[order[from + i]];
                    }
                    try (OnnxTensor images = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), new long[] {n, 1, 16, 16});
                            OnnxTensor targets = OnnxTensor.createTensor(env, LongBuffer.wrap(labels), new long[] {n})) {
                        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
                        for (String name : session.getTrainInputNames()) {
                            feed.put(name, name.equals(ShapeClassifier.INPUT) ? images : targets);
                        }
                        try (OrtSession.Result loss = session.trainStep(feed)) {
                            assertThat(loss.get(0).getValue()).isNotNull();
                        }
                        session.optimizerStep();
                        session.lazyResetGrad();
                    }
                }
            }
            session.saveCheckpoint(trained, false);
        }
        Path adapted = work.resolve("adapted.onnx");
        set.exportInference(env, trained, adapted);
        double after = accuracy(env, adapted, heldOut);

        assertThat(before).as("shipped head on held-out target images").isLessThan(0.5);
        assertThat(after).as("after head training on %d target samples", samples.size()).isGreaterThan(0.9);
    }

    private static double accuracy(OrtEnvironment env, Path model, Batch data) throws OrtException {
        try (OrtSession.SessionOptions options = singleThreaded();
                OrtSession session = env.createSession(model.toString(), options);
                OnnxTensor images = OnnxTensor.createTensor(env, FloatBuffer.wrap(data.flatten(0, data.size())),
                        new long[] {data.size(), 1, 16, 16});
                OrtSession.Result result = session.run(Map.of(ShapeClassifier.INPUT, images))) {
            float[][] scores = (float[][]) result.get(0).getValue();
            int correct = 0;
            for (int i = 0; i < scores.length; i++) {
                if (Scores.argmax(scores[i]) == data.labels()[i]) {
                    correct++;
                }
            }
            return (double) correct / scores.length;
        }
    }

    private static OrtSession.SessionOptions singleThreaded() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        return options;
    }
}
