package io.microkernel.drift;

import io.microkernel.serving.Classification;
import io.microkernel.serving.Prediction;
import io.microkernel.tensor.NamedTensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Running summaries of the last {@code window} served rows, compared with the {@link Baseline} of the
 * active version by population stability index (PSI). Each served row adds its input bins, predicted
 * class and confidence bin to histograms, and the row that falls out of the window is taken off
 * again, so a report costs a few sums however much was served.
 *
 * <p>A prediction by another version than the baseline's asks for a new baseline
 * ({@code rebaseNeeded}) and is not counted; a new baseline starts an empty window.
 *
 * <p>Thread-safe: {@link #observe} holds the watch's lock for a few array updates per row.
 */
public final class DriftWatch {

    /**
     * @param window    the served rows the summaries cover
     * @param minRows   served rows needed before drift is reported
     * @param threshold the PSI above which the traffic counts as drifted
     */
    public record Settings(int window, int minRows, double threshold) {
    }

    private final Settings settings;
    private final IntConsumer rebaseNeeded;
    private Baseline baseline;
    private Histogram[] inputs;
    private Histogram predictedClass;
    private Histogram confidence;
    private double[] meanSums;
    private int[][] ringInputs;
    private double[][] ringMeans;
    private int[] ringClass;
    private int[] ringConfidence;
    private int next;
    private long seen;

    /** @param rebaseNeeded called (with the version) when a prediction comes from a version the baseline does not describe */
    public DriftWatch(Settings settings, IntConsumer rebaseNeeded) {
        this.settings = settings;
        this.rebaseNeeded = rebaseNeeded;
    }

    public Settings settings() {
        return settings;
    }

    /** Counts the rows of a prediction that returned. */
    public void observe(List<NamedTensor> served, Prediction prediction) {
        if (served == null || served.isEmpty()) {
            return;
        }
        int version;
        synchronized (this) {
            if (baseline != null && baseline.version == prediction.version()) {
                if (baseline.measurable() && served.size() == baseline.profile.inputs().size()) {
                    add(served, prediction.classifications());
                }
                return;
            }
            version = prediction.version();
        }
        rebaseNeeded.accept(version);
    }

    private void add(List<NamedTensor> served, List<Classification> classified) {
        int rows = served.get(0).tensor().batchSize();
        Profile profile = baseline.profile;
        for (int r = 0; r < rows; r++) {
            if (seen >= settings.window()) {
                evict(next);
            }
            for (int i = 0; i < served.size(); i++) {
                double mean = Profile.rowMean(served.get(i).tensor(), r);
                int bin = profile.inputBin(i, mean);
                inputs[i].add(bin);
                meanSums[i] += mean;
                ringInputs[next][i] = bin;
                ringMeans[next][i] = mean;
            }
            ringClass[next] = -1;
            ringConfidence[next] = -1;
            if (r < classified.size()) {
                Classification c = classified.get(r);
                if (c.index() >= 0 && c.index() < predictedClass.bins()) {
                    predictedClass.add(c.index());
                    ringClass[next] = c.index();
                }
                ringConfidence[next] = Profile.confidenceBin(c.scores()[c.index()]);
                confidence.add(ringConfidence[next]);
            }
            next = (next + 1) % settings.window();
            seen++;
        }
    }

    private void evict(int slot) {
        for (int i = 0; i < inputs.length; i++) {
            inputs[i].remove(ringInputs[slot][i]);
            meanSums[i] -= ringMeans[slot][i];
        }
        if (ringClass[slot] >= 0) {
            predictedClass.remove(ringClass[slot]);
        }
        if (ringConfidence[slot] >= 0) {
            confidence.remove(ringConfidence[slot]);
        }
    }

    /** Replaces the baseline and empties the served window. */
    synchronized void rebase(Baseline next) {
        baseline = next;
        this.next = 0;
        seen = 0;
        if (!next.measurable()) {
            return;
        }
        int n = next.profile.inputs().size();
        inputs = new Histogram[n];
        for (int i = 0; i < n; i++) {
            inputs[i] = new Histogram(Profile.BINS);
        }
        meanSums = new double[n];
        predictedClass = new Histogram(next.predictedClass.bins());
        confidence = new Histogram(Profile.BINS);
        ringInputs = new int[settings.window()][n];
        ringMeans = new double[settings.window()][n];
        ringClass = new int[settings.window()];
        ringConfidence = new int[settings.window()];
    }

    /** The version the baseline describes, if one was built. */
    synchronized Integer baselineVersion() {
        return baseline == null ? null : baseline.version;
    }

    /** Where the traffic stands now. */
    public synchronized DriftReport report() {
        if (baseline == null) {
            return new DriftReport(null, settings.threshold(), false, 0, 0, null, null, null, null, null, null,
                    "no baseline yet: it is built from the active version's training samples after the first prediction");
        }
        if (!baseline.measurable()) {
            return new DriftReport(null, settings.threshold(), false, 0, 0, baseline.version, null, null, null, null,
                    null, baseline.note);
        }
        long rows = inputs[0].total();
        Map<String, Double> perInput = new LinkedHashMap<>();
        Map<String, Double> servedMeans = new LinkedHashMap<>();
        double worst = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < inputs.length; i++) {
            String name = baseline.profile.inputs().get(i);
            double psi = Histogram.psi(baseline.inputs[i], inputs[i]);
            perInput.put(name, finite(psi));
            servedMeans.put(name, rows == 0 ? null : meanSums[i] / rows);
            worst = Math.max(worst, psi);
        }
        Double classes = null;
        Double confidences = null;
        if (baseline.predictedClass.total() > 0 && predictedClass.total() > 0) {
            double c = Histogram.psi(baseline.predictedClass, predictedClass);
            double k = Histogram.psi(baseline.confidence, confidence);
            classes = finite(c);
            confidences = finite(k);
            worst = Math.max(worst, Math.max(c, k));
        }
        boolean enough = rows >= settings.minRows();
        Double psi = enough && Double.isFinite(worst) ? worst : null;
        String note = enough ? null : "expected at least " + settings.minRows() + " served rows, found " + rows;
        return new DriftReport(psi, settings.threshold(), psi != null && psi > settings.threshold(), rows,
                baseline.rows, baseline.version, perInput, classes, confidences, servedMeans, baseline.means, note);
    }

    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
