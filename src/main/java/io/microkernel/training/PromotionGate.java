package io.microkernel.training;

import io.microkernel.problem.ConfigurationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Decides whether a candidate may replace the active version, from both evaluated on the same holdout.
 *
 * <p>A candidate is promoted only when all of these hold:
 * <ul>
 *   <li>every candidate metric is finite;</li>
 *   <li>it is not worse than the active version by more than {@code maxRegression}: accuracy may drop
 *       by at most that many points (0.02 = two percentage points), the holdout loss and the MSE may
 *       rise by at most that share of the active value (0.02 = 2%);</li>
 *   <li>when {@code minImprovement} is set, it is better by at least that much: accuracy up by that
 *       many points for classification, MSE down by that share for regression;</li>
 *   <li>no class present in the holdout loses more than {@code maxClassRecallDrop} of recall. Recall
 *       is counted above the class's false-positive rate, so a version that labels every sample
 *       with one class (recall 1 for it, and it knows nothing) cannot block a candidate that
 *       actually tells the classes apart; without false-positive rates plain recall is used.</li>
 * </ul>
 * An empty holdout never promotes: there is nothing to compare on.
 *
 * <p>Immutable and thread-safe.
 */
public final class PromotionGate {

    /**
     * The gate's thresholds ({@code microkernel.training.gate.*}).
     *
     * @param maxRegression      how much worse than the active version the candidate may be (see class doc)
     * @param minImprovement     how much better the candidate must be, when present
     * @param maxClassRecallDrop the largest drop in any class's recall, in [0, 1]
     */
    public record Thresholds(double maxRegression, OptionalDouble minImprovement, double maxClassRecallDrop) {

        public Thresholds {
            if (!(maxRegression >= 0)) {
                throw new ConfigurationException("microkernel.training.gate.max-regression", "at least 0", maxRegression);
            }
            if (!(maxClassRecallDrop >= 0)) {
                throw new ConfigurationException("microkernel.training.gate.max-class-recall-drop", "at least 0",
                        maxClassRecallDrop);
            }
            if (minImprovement.isPresent() && !(minImprovement.getAsDouble() >= 0)) {
                throw new ConfigurationException("microkernel.training.gate.min-improvement", "at least 0",
                        minImprovement.getAsDouble());
            }
        }
    }

    private final Thresholds thresholds;

    public PromotionGate(Thresholds thresholds) {
        this.thresholds = thresholds;
    }

    public Thresholds thresholds() {
        return thresholds;
    }

    /** Compares the candidate with the active version; both must come from the same holdout. */
    public PromotionDecision decide(EvaluationMetrics active, EvaluationMetrics candidate) {
        if (candidate.samples() == 0) {
            return reject(List.of("the holdout is empty: expected at least 1 held-out sample, found 0"), List.of());
        }
        List<String> failures = new ArrayList<>();
        List<String> passed = new ArrayList<>();
        if (!candidate.allFinite()) {
            failures.add("candidate metrics are not all finite (loss " + fmt(candidate.loss())
                    + (candidate.accuracy() != null ? ", accuracy " + fmt(candidate.accuracy()) : "")
                    + (candidate.mse() != null ? ", mse " + fmt(candidate.mse()) : "") + ")");
        }
        double tolerance = thresholds.maxRegression();
        if (candidate.isClassification() && active.isClassification()) {
            double delta = candidate.accuracy() - active.accuracy();
            String text = "accuracy " + fmt(candidate.accuracy()) + " vs active " + fmt(active.accuracy())
                    + " (" + signed(delta) + ")";
            if (!(candidate.accuracy() >= active.accuracy() - tolerance)) {
                failures.add(text + " drops more than max-regression " + fmt(tolerance));
            } else {
                passed.add(text);
            }
            if (thresholds.minImprovement().isPresent()) {
                double needed = thresholds.minImprovement().getAsDouble();
                if (!(delta >= needed)) {
                    failures.add("accuracy gain " + signed(delta) + " is below min-improvement " + fmt(needed));
                }
            }
        }
        checkNotHigher("loss", candidate.loss(), active.loss(), tolerance, failures, passed);
        if (candidate.mse() != null && active.mse() != null) {
            checkNotHigher("mse", candidate.mse(), active.mse(), tolerance, failures, passed);
            if (thresholds.minImprovement().isPresent() && !candidate.isClassification()) {
                double needed = thresholds.minImprovement().getAsDouble();
                double gain = active.mse() == 0 ? 0 : (active.mse() - candidate.mse()) / active.mse();
                if (!(gain >= needed)) {
                    failures.add("mse fell by " + percent(gain) + ", below min-improvement " + percent(needed));
                }
            }
        }
        checkRecalls(active, candidate, failures, passed);
        return failures.isEmpty() ? promote(passed) : reject(failures, passed);
    }

    /**
     * Adds the reference-set guard to a decision: a candidate that loses more than the allowed drop on
     * the reference set is refused, whatever the holdout said. The decision keeps both sets of numbers.
     */
    public PromotionDecision guard(PromotionDecision decision, ReferenceCheck reference) {
        String text = reference.describe();
        if (reference.passed()) {
            String reason = decision.reason() + (decision.promote() ? ", " + text : "; within reference limits: " + text);
            return new PromotionDecision(decision.promote(), reason, decision.failures(), reference);
        }
        List<String> failures = new ArrayList<>(decision.failures());
        failures.add(text);
        String reason = decision.promote()
                ? "rejected: " + text + " (within holdout limits: " + decision.reason().substring("promoted: ".length()) + ")"
                : decision.reason() + "; " + text;
        return new PromotionDecision(false, reason, failures, reference);
    }

    private static void checkNotHigher(String name, double candidate, double active, double tolerance,
            List<String> failures, List<String> passed) {
        double limit = active + tolerance * Math.abs(active);
        String text = name + " " + fmt(candidate) + " vs active " + fmt(active);
        if (!(candidate <= limit)) {
            failures.add(text + " rises more than max-regression " + percent(tolerance) + " (limit " + fmt(limit) + ")");
        } else {
            passed.add(text);
        }
    }

    private void checkRecalls(EvaluationMetrics active, EvaluationMetrics candidate, List<String> failures,
            List<String> passed) {
        String worstClass = null;
        double worstDrop = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, Double> entry : active.perClassRecall().entrySet()) {
            String name = entry.getKey();
            Double after = candidate.perClassRecall().get(name);
            if (after == null) {
                continue;
            }
            double drop = active.informedness(name) - candidate.informedness(name);
            if (!(drop <= thresholds.maxClassRecallDrop())) {
                boolean corrected = active.perClassFalsePositiveRate().containsKey(name);
                failures.add("recall of class '" + name + "' " + fmt(after) + " vs active " + fmt(entry.getValue())
                        + (corrected ? " (above its false-positive rate: " + fmt(candidate.informedness(name))
                                + " vs " + fmt(active.informedness(name)) + ")" : "")
                        + " drops more than max-class-recall-drop " + fmt(thresholds.maxClassRecallDrop()));
            }
            if (drop > worstDrop || Double.isNaN(drop)) {
                worstDrop = drop;
                worstClass = entry.getKey();
            }
        }
        if (worstClass != null && Double.isFinite(worstDrop)) {
            passed.add("largest recall drop " + fmt(Math.max(0, worstDrop)) + " (class '" + worstClass + "')");
        }
    }

    private static PromotionDecision promote(List<String> passed) {
        return new PromotionDecision(true, "promoted: " + String.join(", ", passed), List.of());
    }

    private static PromotionDecision reject(List<String> failures, List<String> passed) {
        String reason = "rejected: " + String.join("; ", failures)
                + (passed.isEmpty() ? "" : " (within limits: " + String.join(", ", passed) + ")");
        return new PromotionDecision(false, reason, failures);
    }

    static String fmt(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.4f", value) : String.valueOf(value);
    }

    private static String signed(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%+.4f", value) : String.valueOf(value);
    }

    private static String percent(double share) {
        return Double.isFinite(share) ? String.format(Locale.ROOT, "%.2f%%", share * 100) : String.valueOf(share);
    }
}
