package io.microkernel.demo;

import io.microkernel.tensor.Scores;
import io.microkernel.runtime.OrtSessions;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.artifacts.ArtifactException;
import io.microkernel.artifacts.ArtifactSet;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains and scores shape classifiers with ONNX Runtime's training API: what the default model's
 * recipe and its tests share. Each call opens and closes its own sessions; thread-safe.
 */
public final class ShapeTraining {

    private static final int SCORING_BATCH = 256;

    private ShapeTraining() {
    }

    /**
     * How to train.
     *
     * @param epochs       passes over the data
     * @param batchSize    samples per optimizer step
     * @param learningRate AdamW's learning rate
     * @param seed         the shuffling seed of every epoch
     * @param threads      ORT intra-op threads; 1 keeps results reproducible and leaves cores to others
     */
    public record Settings(int epochs, int batchSize, float learningRate, long seed, int threads) {
    }

    /**
     * Runs {@code settings.epochs()} epochs of minibatch steps over {@code data}, starting from
     * {@code checkpoint}, and saves the parameters (without optimizer state) to {@code trained}.
     *
     * @return the mean training loss of the last epoch
     */
    public static double train(OrtEnvironment env, ArtifactSet set, Path checkpoint, Path trained,
            ShapeImages.Batch data, Settings settings) {
        return train(env, set, checkpoint, trained, data, settings, (epoch, loss) -> { });
    }

    /** Hears of each finished epoch: its number from 1, and its mean training loss. */
    @FunctionalInterface
    public interface EpochListener {
        void epochDone(int epoch, double meanLoss);
    }

    /** As {@link #train(OrtEnvironment, ArtifactSet, Path, Path, ShapeImages.Batch, Settings)}, reporting each epoch. */
    public static double train(OrtEnvironment env, ArtifactSet set, Path checkpoint, Path trained,
            ShapeImages.Batch data, Settings settings, EpochListener listener) {
        String imageInput = set.description().inputs().get(0).name();
        try (OrtSession.SessionOptions options = OrtSessions.options(settings.threads(), 1);
                OrtTrainingSession session = set.openTrainingSession(env, checkpoint, options)) {
            session.setLearningRate(settings.learningRate());
            int[] order = new int[data.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            double lastEpochLoss = Double.NaN;
            for (int epoch = 0; epoch < settings.epochs(); epoch++) {
                shuffle(order, new SplittableRandom(settings.seed() * 31 + epoch));
                double lossSum = 0;
                int steps = 0;
                for (int from = 0; from < order.length; from += settings.batchSize()) {
                    int to = Math.min(order.length, from + settings.batchSize());
                    lossSum += step(env, session, imageInput, data, order, from, to);
                    steps++;
                }
                lastEpochLoss = lossSum / steps;
                listener.epochDone(epoch + 1, lastEpochLoss);
            }
            session.saveCheckpoint(trained.toAbsolutePath(), false);
            return lastEpochLoss;
        } catch (OrtException e) {
            throw new ArtifactException(set.dir(), "training failed: " + e.getMessage(), e);
        }
    }

    /** The share of {@code data} whose highest-scoring class of the inference model is the label. */
    public static double accuracy(OrtEnvironment env, Path inferenceModel, ShapeImages.Batch data, int threads) {
        try (OrtSession.SessionOptions options = OrtSessions.options(threads, 1);
                OrtSession session = env.createSession(inferenceModel.toString(), options)) {
            String input = session.getInputNames().iterator().next();
            int correct = 0;
            for (int from = 0; from < data.size(); from += SCORING_BATCH) {
                int to = Math.min(data.size(), from + SCORING_BATCH);
                try (OnnxTensor images = images(env, data.flatten(from, to), to - from);
                        OrtSession.Result result = session.run(Map.of(input, images))) {
                    float[][] scores = (float[][]) result.get(0).getValue();
                    for (int i = 0; i < scores.length; i++) {
                        if (Scores.argmax(scores[i]) == data.labels()[from + i]) {
                            correct++;
                        }
                    }
                }
            }
            return (double) correct / data.size();
        } catch (OrtException e) {
            throw new ArtifactException(inferenceModel, "scoring failed: " + e.getMessage(), e);
        }
    }

    private static float step(OrtEnvironment env, OrtTrainingSession session, String imageInput,
            ShapeImages.Batch data, int[] order, int from, int to) throws OrtException {
        int n = to - from;
        float[] pixels = new float[n * ShapeImages.PIXELS];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(data.pixels()[order[from + i]], 0, pixels, i * ShapeImages.PIXELS, ShapeImages.PIXELS);
            labels[i] = data.labels()[order[from + i]];
        }
        try (OnnxTensor images = images(env, pixels, n);
                OnnxTensor labelTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(labels), new long[] {n})) {
            // trainStep binds inputs by position, so the map follows the session's own order.
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            for (String name : session.getTrainInputNames()) {
                feed.put(name, name.equals(imageInput) ? images : labelTensor);
            }
            float loss;
            try (OrtSession.Result result = session.trainStep(feed)) {
                loss = (float) OrtSessions.scalar(result.get(0), "training graph");
            }
            session.optimizerStep();
            session.lazyResetGrad();
            return loss;
        }
    }

    private static OnnxTensor images(OrtEnvironment env, float[] pixels, int n) throws OrtException {
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels),
                new long[] {n, 1, ShapeImages.SIZE, ShapeImages.SIZE});
    }

    private static void shuffle(int[] order, SplittableRandom random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
}
