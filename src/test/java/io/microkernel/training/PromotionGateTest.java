package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class PromotionGateTest {

    private static final PromotionGate STRICT = new PromotionGate(
            new PromotionGate.Thresholds(0.0, OptionalDouble.empty(), 0.1));

    private static EvaluationMetrics classification(double loss, double accuracy, double recallA, double recallB) {
        return new EvaluationMetrics(100, loss, accuracy, null, Map.of("a", recallA, "b", recallB),
                Map.of("a", 50, "b", 50));
    }

    private static EvaluationMetrics regression(double loss, double mse) {
        return new EvaluationMetrics(40, loss, null, mse, Map.of(), Map.of());
    }

    @Test
    void aBetterCandidateIsPromotedWithItsNumbersInTheReason() {
        PromotionDecision decision = STRICT.decide(classification(1.2, 0.40, 0.5, 0.3), classification(0.2, 0.95, 0.96, 0.94));
        assertThat(decision.promote()).isTrue();
        assertThat(decision.failures()).isEmpty();
        assertThat(decision.reason()).contains("accuracy 0.9500 vs active 0.4000 (+0.5500)", "loss 0.2000 vs active 1.2000");
    }

    @Test
    void aNonFiniteCandidateIsRejected() {
        PromotionDecision decision = STRICT.decide(classification(1.2, 0.40, 0.5, 0.3),
                classification(Double.NaN, 0.50, 0.5, 0.5));
        assertThat(decision.promote()).isFalse();
        assertThat(decision.reason()).contains("not all finite", "loss NaN");
    }

    @Test
    void aLowerAccuracyIsRejectedUnlessWithinMaxRegression() {
        EvaluationMetrics active = classification(0.50, 0.80, 0.8, 0.8);
        EvaluationMetrics candidate = classification(0.50, 0.78, 0.78, 0.78);
        PromotionDecision strict = STRICT.decide(active, candidate);
        assertThat(strict.promote()).isFalse();
        assertThat(strict.reason()).contains("accuracy 0.7800 vs active 0.8000 (-0.0200) drops more than max-regression 0.0000");

        PromotionGate lenient = new PromotionGate(new PromotionGate.Thresholds(0.05, OptionalDouble.empty(), 0.1));
        assertThat(lenient.decide(active, candidate).promote()).isTrue();
    }

    @Test
    void aHigherLossIsRejectedBeyondTheRelativeTolerance() {
        EvaluationMetrics active = classification(0.50, 0.80, 0.8, 0.8);
        EvaluationMetrics candidate = classification(0.53, 0.80, 0.8, 0.8);
        PromotionDecision decision = new PromotionGate(new PromotionGate.Thresholds(0.05, OptionalDouble.empty(), 0.1))
                .decide(active, candidate);
        assertThat(decision.promote()).isFalse();
        assertThat(decision.reason()).contains("loss 0.5300 vs active 0.5000 rises more than max-regression 5.00% (limit 0.5250)");
    }

    @Test
    void minImprovementRequiresAGainWhenSet() {
        EvaluationMetrics active = classification(0.50, 0.80, 0.8, 0.8);
        EvaluationMetrics candidate = classification(0.45, 0.81, 0.81, 0.81);
        assertThat(STRICT.decide(active, candidate).promote()).isTrue();
        PromotionGate demanding = new PromotionGate(new PromotionGate.Thresholds(0.0, OptionalDouble.of(0.05), 0.1));
        PromotionDecision decision = demanding.decide(active, candidate);
        assertThat(decision.promote()).isFalse();
        assertThat(decision.reason()).contains("accuracy gain +0.0100 is below min-improvement 0.0500");
    }

    @Test
    void aClassWhoseRecallCollapsesIsRejectedEvenWhenAccuracyRises() {
        EvaluationMetrics active = classification(0.60, 0.70, 0.90, 0.50);
        EvaluationMetrics candidate = classification(0.40, 0.75, 0.60, 0.90);
        PromotionDecision decision = STRICT.decide(active, candidate);
        assertThat(decision.promote()).isFalse();
        assertThat(decision.failures()).singleElement().asString()
                .contains("recall of class 'a' 0.6000 vs active 0.9000 drops more than max-class-recall-drop 0.1000");
    }

    @Test
    void aVersionThatLabelsEverythingOneClassDoesNotBlockACandidateThatTellsClassesApart() {
        // Active: every sample called 'a' (recall 1 for 'a', but every 'b' is a false positive for 'a').
        EvaluationMetrics active = new EvaluationMetrics(100, 1.1, 0.5, null, Map.of("a", 1.0, "b", 0.0),
                Map.of("a", 50, "b", 50), Map.of("a", 1.0, "b", 0.0));
        EvaluationMetrics candidate = new EvaluationMetrics(100, 0.4, 0.85, null, Map.of("a", 0.8, "b", 0.9),
                Map.of("a", 50, "b", 50), Map.of("a", 0.1, "b", 0.2));
        PromotionDecision decision = STRICT.decide(active, candidate);
        assertThat(decision.promote()).as(decision.reason()).isTrue();

        // A candidate that forgets 'a' is caught, with both numbers; 'b' gained recall only by over-predicting it.
        EvaluationMetrics knowing = new EvaluationMetrics(100, 0.5, 0.8, null, Map.of("a", 0.9, "b", 0.7),
                Map.of("a", 50, "b", 50), Map.of("a", 0.3, "b", 0.1));
        EvaluationMetrics forgetting = new EvaluationMetrics(100, 0.45, 0.8, null, Map.of("a", 0.4, "b", 1.0),
                Map.of("a", 50, "b", 50), Map.of("a", 0.0, "b", 0.4));
        PromotionDecision rejected = STRICT.decide(knowing, forgetting);
        assertThat(rejected.promote()).isFalse();
        assertThat(rejected.reason()).contains(
                "recall of class 'a' 0.4000 vs active 0.9000 (above its false-positive rate: 0.4000 vs 0.6000)")
                .doesNotContain("recall of class 'b'");
    }

    @Test
    void regressionIsJudgedOnMseAndItsRelativeImprovement() {
        EvaluationMetrics active = regression(0.40, 0.40);
        assertThat(STRICT.decide(active, regression(0.30, 0.30)).promote()).isTrue();
        PromotionDecision worse = STRICT.decide(active, regression(0.50, 0.50));
        assertThat(worse.promote()).isFalse();
        assertThat(worse.reason()).contains("mse 0.5000 vs active 0.4000 rises");
        PromotionGate demanding = new PromotionGate(new PromotionGate.Thresholds(0.0, OptionalDouble.of(0.5), 0.1));
        PromotionDecision small = demanding.decide(active, regression(0.30, 0.30));
        assertThat(small.promote()).isFalse();
        assertThat(small.reason()).contains("mse fell by 25.00%, below min-improvement 50.00%");
        assertThat(STRICT.decide(active, regression(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY)).promote())
                .isFalse();
    }

    @Test
    void anEmptyHoldoutNeverPromotes() {
        EvaluationMetrics empty = new EvaluationMetrics(0, 0, 0.0, null, Map.of(), Map.of());
        PromotionDecision decision = STRICT.decide(empty, empty);
        assertThat(decision.promote()).isFalse();
        assertThat(decision.reason()).contains("holdout is empty");
    }
}
