package io.microkernel.drift;

import io.microkernel.serving.Classification;
import io.microkernel.tensor.NamedTensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The summaries of the samples a version was trained on, which served traffic is compared with.
 * Immutable once built.
 */
final class Baseline {

    final int version;
    final Profile profile;
    final Histogram[] inputs;
    final Histogram predictedClass;
    final Histogram confidence;
    final Map<String, Double> means;
    final long rows;
    final String note;

    private Baseline(int version, Profile profile, Histogram[] inputs, Histogram predictedClass, Histogram confidence,
            Map<String, Double> means, long rows, String note) {
        this.version = version;
        this.profile = profile;
        this.inputs = inputs;
        this.predictedClass = predictedClass;
        this.confidence = confidence;
        this.means = means;
        this.rows = rows;
        this.note = note;
    }

    /** A version with no known training samples: drift cannot be measured for it. */
    static Baseline none(int version, String note) {
        return new Baseline(version, null, null, null, null, Map.of(), 0, note);
    }

    boolean measurable() {
        return profile != null;
    }

    /**
     * Summarises the samples: {@code inputs} as the model takes them (one batch of all samples) and
     * the version's classifications of them (empty for a model that is no classifier).
     */
    static Baseline of(int version, List<NamedTensor> inputs, List<Classification> classified, int classes) {
        int rows = inputs.get(0).tensor().batchSize();
        double[][] edges = new double[inputs.size()][];
        Histogram[] histograms = new Histogram[inputs.size()];
        Map<String, Double> means = new LinkedHashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            double[] rowMeans = new double[rows];
            double sum = 0;
            for (int r = 0; r < rows; r++) {
                rowMeans[r] = Profile.rowMean(inputs.get(i).tensor(), r);
                sum += rowMeans[r];
            }
            edges[i] = Profile.decileEdges(rowMeans);
            means.put(inputs.get(i).name(), sum / Math.max(1, rows));
            histograms[i] = new Histogram(Profile.BINS);
        }
        Profile profile = new Profile(inputs.stream().map(NamedTensor::name).toList(), edges, classes);
        for (int i = 0; i < inputs.size(); i++) {
            for (int r = 0; r < rows; r++) {
                histograms[i].add(profile.inputBin(i, Profile.rowMean(inputs.get(i).tensor(), r)));
            }
        }
        Histogram predicted = new Histogram(Math.max(1, classes));
        Histogram confidence = new Histogram(Profile.BINS);
        for (Classification c : classified) {
            if (c.index() >= 0 && c.index() < predicted.bins()) {
                predicted.add(c.index());
            }
            confidence.add(Profile.confidenceBin(c.scores()[c.index()]));
        }
        return new Baseline(version, profile, histograms, predicted, confidence, Map.copyOf(means), rows, null);
    }
}
