package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReferenceCheckTest {

    private final PromotionGate gate = new PromotionGate(new PromotionGate.Thresholds(0.0, OptionalDouble.empty(), 0.1));
    private final ReferenceSet set = new ReferenceSet(List.of(), "artifact set");

    private static EvaluationMetrics accuracy(double value) {
        return new EvaluationMetrics(100, 0.5, value, null, Map.of(), Map.of());
    }

    @Test
    void aCandidateThatForgetsTheReferenceSetIsRefusedWithBothNumbers() {
        PromotionDecision holdout = gate.decide(accuracy(0.4), accuracy(0.9));
        assertThat(holdout.promote()).isTrue();
        PromotionDecision guarded = gate.guard(holdout, ReferenceCheck.of(set, accuracy(0.99), accuracy(0.7), 0.05));
        assertThat(guarded.promote()).isFalse();
        assertThat(guarded.reason()).startsWith("rejected: reference accuracy 0.7000 vs active 0.9900")
                .contains("max-drop 0.0500").contains("within holdout limits: accuracy 0.9000 vs active 0.4000");
        assertThat(guarded.reference().candidateAccuracy()).isEqualTo(0.7);
        assertThat(guarded.failures()).hasSize(1);
    }

    @Test
    void aCandidateWithinTheDropIsPromotedAndTheDecisionStatesTheReferenceNumbers() {
        PromotionDecision guarded = gate.guard(gate.decide(accuracy(0.4), accuracy(0.9)),
                ReferenceCheck.of(set, accuracy(0.99), accuracy(0.96), 0.05));
        assertThat(guarded.promote()).isTrue();
        assertThat(guarded.reason()).contains("reference accuracy 0.9600 vs active 0.9900");
        assertThat(guarded.reference().passed()).isTrue();
    }

    @Test
    void theFeedbackLedgerCountsFeedbackSamplesAcrossARestart(@TempDir Path dir) {
        FeedbackLedger ledger = FeedbackLedger.open(dir.resolve("feedback-samples.txt"));
        ledger.add(List.of(3L, 4L, 5L, 9L));
        FeedbackLedger reopened = FeedbackLedger.open(dir.resolve("feedback-samples.txt"));
        List<Sample> samples = java.util.stream.LongStream.rangeClosed(1, 10)
                .mapToObj(id -> new Sample(id, 0, Map.of("x", io.microkernel.tensor.Tensor.ofFloats(new long[] {1}, 1f)),
                        new SampleLabel.ClassIndex(0))).toList();
        assertThat(reopened.count(samples)).isEqualTo(4);
        assertThat(FeedbackLedger.NONE.count(samples)).isZero();
    }
}
