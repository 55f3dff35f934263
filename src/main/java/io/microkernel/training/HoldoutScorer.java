package io.microkernel.training;

import io.microkernel.runtime.OrtSessions;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.LossKind;
import io.microkernel.tensor.Scores;
import io.microkernel.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores one model version on the holdout: the loss with the artifact set's own eval graph, and
 * accuracy, per-class recall or MSE from the version's inference model (what serving answers with).
 *
 * <p>Not thread-safe; a round uses it on its own thread. It closes every tensor and result it
 * creates and never closes the sessions it is given.
 */
final class HoldoutScorer {

    /** Rows of the first batch when batches are sized by time: a cheap first measure of the time per row. */
    static final int FIRST_TIMED_ROWS = 4;

    private final OrtEnvironment env;
    private final ArtifactDescription description;
    private final List<Sample> holdout;
    private final int batchSize;
    private Runnable beforeBatch = () -> { };
    /** How long one batch should take; 0: every batch has {@link #batchSize} rows. */
    private long batchNanos;

    HoldoutScorer(OrtEnvironment env, ArtifactDescription description, List<Sample> holdout, int batchSize) {
        this.env = env;
        this.description = description;
        this.holdout = List.copyOf(holdout);
        this.batchSize = Math.max(1, batchSize);
    }

    /**
     * Runs {@code pause} before each batch it scores (a round gives way to serving there), and with a
     * {@code batchTime} above zero sizes the batches so that one takes about that long (from the time
     * per row of the batch before; at most the batch size given): on a model whose rows are slow, a
     * batch of the full size would run for a long time between two chances to give way. The answers
     * do not depend on the batch sizes (the loss up to float rounding). Returns this.
     */
    HoldoutScorer pausingWith(Runnable pause, java.time.Duration batchTime) {
        this.beforeBatch = pause;
        this.batchNanos = Math.max(0, batchTime.toNanos());
        return this;
    }

    /** The time one batch aims at; zero when batches have the fixed batch size. */
    java.time.Duration batchTime() {
        return java.time.Duration.ofNanos(batchNanos);
    }

    /**
     * Rows of the next batch: those that take about {@code targetNanos} at the rate the last batch ran
     * ({@code rows} in {@code elapsedNanos}), between 1 and {@code max}.
     */
    static int nextRows(long elapsedNanos, int rows, long targetNanos, int max) {
        if (elapsedNanos <= 0) {
            return max;
        }
        double perRow = (double) elapsedNanos / Math.max(1, rows);
        return (int) Math.max(1, Math.min(max, (long) (targetNanos / perRow)));
    }

    /** How a batch of holdout samples becomes the eval graph's inputs (cached frozen features, or as they are). */
    @FunctionalInterface
    interface EvalInputs {
        List<Sample> of(List<Sample> batch) throws OrtException;
    }

    /** Mean eval loss over the holdout, weighting each eval step by its batch size. */
    double evalLoss(OrtTrainingSession session) throws OrtException {
        return evalLoss(session, batch -> batch);
    }

    /** Mean eval loss over the holdout, each batch turned into the eval graph's inputs by {@code inputs}. */
    double evalLoss(OrtTrainingSession session, EvalInputs inputs) throws OrtException {
        if (holdout.isEmpty()) {
            return Double.NaN;
        }
        double[] weighted = {0};
        forEachBatch(batch -> {
            try (TensorBatch tensors = TensorBatch.of(env, session.getEvalInputNames(), description.label(),
                    inputs.of(batch));
                    OrtSession.Result result = session.evalStep(tensors.inputs())) {
                weighted[0] += OrtSessions.scalar(result.get(0), "eval graph") * batch.size();
            }
        });
        return weighted[0] / holdout.size();
    }

    /** The inference model's answer for every holdout sample, flattened per sample. */
    List<double[]> predict(OrtSession inference, String outputName) throws OrtException {
        List<String> names = description.inputs().stream().map(io.microkernel.tensor.TensorSpec::name).toList();
        List<double[]> outputs = new ArrayList<>(holdout.size());
        forEachBatch(batch -> {
            try (TensorBatch tensors = TensorBatch.of(env, names, null, batch);
                    OrtSession.Result result = inference.run(tensors.inputs(), java.util.Set.of(outputName))) {
                OnnxValue value = result.get(outputName).orElseThrow(() -> new IllegalStateException(
                        "the inference model did not return output '" + outputName + "'"));
                outputs.addAll(rows((OnnxTensor) value, batch.size()));
            }
        });
        return outputs;
    }

    /** What is done with one batch of the holdout. */
    @FunctionalInterface
    private interface BatchWork {
        void run(List<Sample> batch) throws OrtException;
    }

    /**
     * The holdout in order, batch by batch, with the pause before each: batches of the batch size, or
     * sized by time when {@link #pausingWith} asked for it.
     */
    private void forEachBatch(BatchWork work) throws OrtException {
        int rows = batchNanos > 0 ? Math.min(batchSize, FIRST_TIMED_ROWS) : batchSize;
        for (int start = 0; start < holdout.size(); ) {
            List<Sample> batch = holdout.subList(start, Math.min(holdout.size(), start + rows));
            beforeBatch.run();
            long started = System.nanoTime();
            work.run(batch);
            start += batch.size();
            if (batchNanos > 0) {
                rows = nextRows(System.nanoTime() - started, batch.size(), batchNanos, batchSize);
            }
        }
    }

    /** Builds the metrics from the eval loss and the inference outputs (in holdout order). */
    EvaluationMetrics metrics(double loss, List<double[]> outputs) {
        if (description.loss() == LossKind.MSE) {
            double squared = 0;
            long count = 0;
            for (int i = 0; i < holdout.size(); i++) {
                float[] target = ((SampleLabel.Target) holdout.get(i).label()).values();
                double[] out = outputs.get(i);
                if (out.length != target.length) {
                    throw new IllegalStateException("the inference output has " + out.length
                            + " values per sample, expected " + target.length + " like the target");
                }
                for (int k = 0; k < target.length; k++) {
                    double d = out[k] - target[k];
                    squared += d * d;
                    count++;
                }
            }
            return new EvaluationMetrics(holdout.size(), loss, null, count == 0 ? Double.NaN : squared / count,
                    Map.of(), Map.of());
        }
        List<String> classNames = description.classNames();
        int classes = Math.max(description.numClasses(), classNames.size());
        int[] support = new int[Math.max(1, classes)];
        int[] hits = new int[support.length];
        int[] predictedAs = new int[support.length];
        int correct = 0;
        for (int i = 0; i < holdout.size(); i++) {
            int label = ((SampleLabel.ClassIndex) holdout.get(i).label()).index();
            int predicted = Scores.argmax(outputs.get(i));
            if (predicted >= 0 && predicted < predictedAs.length) {
                predictedAs[predicted]++;
            }
            if (label < support.length) {
                support[label]++;
                if (predicted == label) {
                    hits[label]++;
                }
            }
            if (predicted == label) {
                correct++;
            }
        }
        Map<String, Double> recall = new LinkedHashMap<>();
        Map<String, Integer> supportByName = new LinkedHashMap<>();
        Map<String, Double> falsePositiveRate = new LinkedHashMap<>();
        for (int c = 0; c < support.length; c++) {
            if (support[c] > 0) {
                String name = c < classNames.size() ? classNames.get(c) : Integer.toString(c);
                recall.put(name, (double) hits[c] / support[c]);
                supportByName.put(name, support[c]);
                int others = holdout.size() - support[c];
                falsePositiveRate.put(name, others == 0 ? 0.0 : (double) (predictedAs[c] - hits[c]) / others);
            }
        }
        double accuracy = holdout.isEmpty() ? Double.NaN : (double) correct / holdout.size();
        return new EvaluationMetrics(holdout.size(), loss, accuracy, null, recall, supportByName, falsePositiveRate);
    }

    private static List<double[]> rows(OnnxTensor output, int n) {
        Tensor tensor = Tensor.copyOf(output);
        if (!tensor.dtype().isFloatingPoint()) {
            throw new IllegalStateException("expected a float inference output, found " + tensor.dtype());
        }
        int per = tensor.elementCount() / Math.max(1, n);
        List<double[]> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double[] row = new double[per];
            for (int k = 0; k < per; k++) {
                row[k] = tensor.getDouble(i * per + k);
            }
            rows.add(row);
        }
        return rows;
    }
}
