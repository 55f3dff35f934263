package io.microkernel.training;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How one model version did on the holdout.
 *
 * @param samples        holdout samples evaluated
 * @param loss           mean training loss (the artifact set's own loss) over the holdout
 * @param accuracy       share of correct argmax predictions; {@code null} for regression
 * @param mse            mean squared error of the inference output; {@code null} for classification
 * @param perClassRecall recall of each class present in the holdout, by class name; empty for regression
 * @param perClassSupport holdout samples of each class, by class name; empty for regression
 * @param perClassFalsePositiveRate for each class present, the share of the other classes' samples
 *                       predicted as that class; empty for regression
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record EvaluationMetrics(int samples, double loss, Double accuracy, Double mse,
        Map<String, Double> perClassRecall, Map<String, Integer> perClassSupport,
        Map<String, Double> perClassFalsePositiveRate) {

    /** Metrics without false-positive rates (regression, or recall judged on its own). */
    public EvaluationMetrics(int samples, double loss, Double accuracy, Double mse, Map<String, Double> perClassRecall,
            Map<String, Integer> perClassSupport) {
        this(samples, loss, accuracy, mse, perClassRecall, perClassSupport, Map.of());
    }

    public EvaluationMetrics {
        perClassFalsePositiveRate = Collections.unmodifiableMap(new LinkedHashMap<>(
                perClassFalsePositiveRate == null ? Map.of() : perClassFalsePositiveRate));
        perClassRecall = Collections.unmodifiableMap(new LinkedHashMap<>(
                perClassRecall == null ? Map.of() : perClassRecall));
        perClassSupport = Collections.unmodifiableMap(new LinkedHashMap<>(
                perClassSupport == null ? Map.of() : perClassSupport));
    }

    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isClassification() {
        return accuracy != null;
    }

    /** Whether every number is finite (a diverged model produces NaN or infinity somewhere). */
    public boolean allFinite() {
        if (!Double.isFinite(loss)) {
            return false;
        }
        if (accuracy != null && !Double.isFinite(accuracy)) {
            return false;
        }
        if (mse != null && !Double.isFinite(mse)) {
            return false;
        }
        return perClassRecall.values().stream().allMatch(Double::isFinite);
    }

    /**
     * Recall of a class above its false-positive rate (informedness): how much better than a guess
     * the version tells this class from the others. A version that labels every sample with one
     * class has recall 1 for it but informedness 0, because it knows nothing about that class.
     */
    public double informedness(String className) {
        Double recall = perClassRecall.get(className);
        if (recall == null) {
            return Double.NaN;
        }
        return recall - perClassFalsePositiveRate.getOrDefault(className, 0.0);
    }

    /** A flat name-to-number view, for version lineage and metrics export. */
    public Map<String, Double> asMap(String prefix) {
        Map<String, Double> flat = new LinkedHashMap<>();
        flat.put(prefix + "loss", loss);
        if (accuracy != null) {
            flat.put(prefix + "accuracy", accuracy);
        }
        if (mse != null) {
            flat.put(prefix + "mse", mse);
        }
        perClassRecall.forEach((name, recall) -> flat.put(prefix + "recall." + name, recall));
        flat.put(prefix + "samples", (double) samples);
        return flat;
    }
}
