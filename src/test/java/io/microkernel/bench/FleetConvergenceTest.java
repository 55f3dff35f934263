package io.microkernel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microkernel.bench.FleetConvergence.Answer;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The fleet phase's pure computations: when a replica serves a version, the summary, the window split. */
class FleetConvergenceTest {

    private static Answer answer(long end, int version) {
        return new Answer(end - 1, end, version);
    }

    @Test
    void aReplicaServesAVersionFromItsFirstAnswerWithIt() {
        List<Answer> answers = List.of(answer(5, 2), answer(12, 1), answer(20, 2), answer(30, 2));

        // The answer at 5 is before the window; the one at 12 still names the old version.
        assertThat(FleetConvergence.servingSince(answers, 2, 10, 40)).isEqualTo(OptionalLong.of(20));
    }

    @Test
    void aReplicaThatFlipsBackServesTheVersionOnlyFromItsLastUnbrokenRun() {
        List<Answer> answers = List.of(answer(11, 2), answer(12, 1), answer(13, 2),
                answer(14, Answer.FAILED), answer(15, 2), answer(16, 2));

        assertThat(FleetConvergence.servingSince(answers, 2, 10, 20)).isEqualTo(OptionalLong.of(15));
    }

    @Test
    void aReplicaWhoseLastAnswerInTheWindowNamesAnotherVersionOrFailedDoesNotServeIt() {
        assertThat(FleetConvergence.servingSince(List.of(answer(11, 2), answer(12, 1)), 2, 10, 20)).isEmpty();
        assertThat(FleetConvergence.servingSince(List.of(answer(11, 2), answer(12, Answer.FAILED)), 2, 10, 20))
                .isEmpty();
        assertThat(FleetConvergence.servingSince(List.of(), 2, 10, 20)).isEmpty();
    }

    @Test
    void answersAfterTheWindowNeitherStartNorBreakARun() {
        assertThat(FleetConvergence.servingSince(List.of(answer(11, 2), answer(25, 1)), 2, 10, 20))
                .isEqualTo(OptionalLong.of(11));
        assertThat(FleetConvergence.servingSince(List.of(answer(11, 1), answer(25, 2)), 2, 10, 20)).isEmpty();
    }

    @Test
    void p50IsTheNearestRankValueAndMaxTheLargest() {
        assertThat(FleetConvergence.p50AndMax(List.of(30.0, 10.0, 20.0))).isEqualTo(Map.of("p50", 20.0, "max", 30.0));
        assertThat(FleetConvergence.p50AndMax(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(Map.of("p50", 2.0, "max", 4.0));
        assertThat(FleetConvergence.p50AndMax(List.of(7.5))).isEqualTo(Map.of("p50", 7.5, "max", 7.5));
        assertThatThrownBy(() -> FleetConvergence.p50AndMax(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void requestsSplitIntoSwapWindowsAndQuietBlocks() {
        // Requests (intended start, end) in ms, as nanoseconds; the third failed.
        long[][] requests = {{0, 2}, {9, 12}, {10, 11}, {14, 16}, {21, 23}, {29, 31}};
        OpenLoopLoad.RequestLog log = new OpenLoopLoad.RequestLog(requests.length);
        for (int i = 0; i < requests.length; i++) {
            log.intendedStart[i] = requests[i][0] * 1_000_000;
            log.end[i] = requests[i][1] * 1_000_000;
            log.ok[i] = i != 2;
        }
        log.sent = requests.length;
        List<long[]> swaps = List.of(new long[] {10_000_000, 15_000_000});
        List<long[]> quiet = List.of(new long[] {0, 9_500_000}, new long[] {20_000_000, 30_000_000});

        // Overlapping the swap window: the requests at 9-12 and 14-16 (10-11 failed and is left out).
        Latencies during = log.overlapping(swaps, true);
        assertThat(during.count()).isEqualTo(2);
        assertThat(during.maxMs()).isEqualTo(3.0, org.assertj.core.data.Offset.offset(0.01));
        // Wholly inside a quiet block: 0-2 and 21-23 (9-12 and 29-31 cross a block's edge).
        Latencies steady = log.within(quiet);
        assertThat(steady.count()).isEqualTo(2);
        assertThat(steady.maxMs()).isEqualTo(2.0, org.assertj.core.data.Offset.offset(0.01));
    }
}
