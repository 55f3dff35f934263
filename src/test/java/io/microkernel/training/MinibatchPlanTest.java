package io.microkernel.training;

import io.microkernel.tensor.Tensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MinibatchPlanTest {

    private static List<Sample> samples(long from, long to) {
        List<Sample> list = new ArrayList<>();
        for (long id = from; id <= to; id++) {
            list.add(new Sample(id, 0, Map.of("x", Tensor.ofFloats(new long[] {1}, new float[] {id})),
                    new SampleLabel.ClassIndex(0)));
        }
        return list;
    }

    private static List<Long> ids(MinibatchPlan plan) {
        List<Long> ids = new ArrayList<>();
        for (int e = 0; e < plan.epochCount(); e++) {
            plan.epoch(e).forEach(batch -> batch.forEach(s -> ids.add(s.id())));
        }
        return ids;
    }

    @Test
    void everyFreshSampleOncePerEpochToppedUpWithTheReplayShare() {
        List<Sample> fresh = samples(101, 150);
        List<Sample> replay = samples(1, 100);
        MinibatchPlan plan = MinibatchPlan.build(fresh, replay, new RoundSettings(2, 10, 0.1, 1.0, 0.3), 7);
        assertThat(plan.epochCount()).isEqualTo(2);
        // 10 per batch, 3 of them replay: 7 fresh per batch, so 50 fresh samples take 8 steps per epoch.
        assertThat(plan.totalSteps()).isEqualTo(16);
        for (int e = 0; e < 2; e++) {
            Set<Long> freshSeen = new HashSet<>();
            int replaySeen = 0;
            for (List<Sample> batch : plan.epoch(e)) {
                for (Sample s : batch) {
                    if (s.id() > 100) {
                        assertThat(freshSeen.add(s.id())).isTrue();
                    } else {
                        replaySeen++;
                    }
                }
            }
            assertThat(freshSeen).hasSize(50);
            assertThat((double) replaySeen / (replaySeen + 50)).isBetween(0.25, 0.35);
        }
    }

    @Test
    void theSameSeedGivesTheSameOrderAndAnotherSeedADifferentOne() {
        RoundSettings settings = new RoundSettings(3, 8, 0.1, 1.0, 0.25);
        List<Long> a = ids(MinibatchPlan.build(samples(51, 100), samples(1, 50), settings, 42));
        List<Long> b = ids(MinibatchPlan.build(samples(51, 100), samples(1, 50), settings, 42));
        List<Long> c = ids(MinibatchPlan.build(samples(51, 100), samples(1, 50), settings, 43));
        assertThat(a).isEqualTo(b).isNotEqualTo(c);
    }

    @Test
    void withoutFreshSamplesTheOlderOnesAreTrainedAndWithoutAnyItIsAnError() {
        MinibatchPlan plan = MinibatchPlan.build(List.of(), samples(1, 5), new RoundSettings(1, 2, 0.1, 1.0, 0.5), 1);
        assertThat(ids(plan)).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L);
        assertThat(plan.replayCount()).isZero();
        assertThatThrownBy(() -> MinibatchPlan.build(List.of(), List.of(), new RoundSettings(1, 2, 0.1, 1.0, 0.5), 1))
                .hasMessageContaining("expected at least 1 training sample, found 0");
    }
}
