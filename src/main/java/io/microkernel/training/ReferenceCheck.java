package io.microkernel.training;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * The active version and the candidate scored on the reference set, and the drop the gate allows.
 *
 * @param samples           reference samples scored
 * @param source            where the reference set came from
 * @param activeAccuracy    the active version's accuracy on it (null for regression)
 * @param candidateAccuracy the candidate's accuracy on it (null for regression)
 * @param activeMse         the active version's MSE on it (null for classification)
 * @param candidateMse      the candidate's MSE on it (null for classification)
 * @param maxDrop           accuracy points (or MSE share) the candidate may lose ({@code microkernel.training.reference.max-drop})
 * @param passed            whether the candidate stayed within {@code maxDrop}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ReferenceCheck(int samples, String source, Double activeAccuracy, Double candidateAccuracy,
        Double activeMse, Double candidateMse, double maxDrop, boolean passed) {

    static ReferenceCheck of(ReferenceSet set, EvaluationMetrics active, EvaluationMetrics candidate, double maxDrop) {
        boolean passed;
        if (active.isClassification() && candidate.isClassification()) {
            passed = candidate.accuracy() >= active.accuracy() - maxDrop;
        } else {
            double limit = active.mse() + maxDrop * Math.abs(active.mse());
            passed = candidate.mse() <= limit;
        }
        return new ReferenceCheck(set.size(), set.source(), active.accuracy(), candidate.accuracy(), active.mse(),
                candidate.mse(), maxDrop, passed);
    }

    /** One sentence with the numbers, as the decision states it. */
    String describe() {
        if (activeAccuracy != null && candidateAccuracy != null) {
            return "reference accuracy " + PromotionGate.fmt(candidateAccuracy) + " vs active "
                    + PromotionGate.fmt(activeAccuracy) + " on " + samples + " reference samples"
                    + (passed ? "" : " drops more than reference max-drop " + PromotionGate.fmt(maxDrop));
        }
        return "reference mse " + PromotionGate.fmt(candidateMse) + " vs active " + PromotionGate.fmt(activeMse)
                + " on " + samples + " reference samples"
                + (passed ? "" : " rises more than reference max-drop " + PromotionGate.fmt(maxDrop));
    }
}
