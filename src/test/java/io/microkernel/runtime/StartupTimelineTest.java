package io.microkernel.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StartupTimelineTest {

    @Test
    void recordsPhasesInOrderWithTheirDurationsAndForgetsThemOnceLogged() {
        StartupTimeline.logSummary("before this test");
        long started = System.nanoTime() - 5_000_000;
        long ms = StartupTimeline.since("first phase", started);
        StartupTimeline.sinceMark("second phase");

        assertThat(ms).isGreaterThanOrEqualTo(5);
        assertThat(StartupTimeline.phases()).matches("first phase \\d+ ms, second phase \\d+ ms");
        assertThat(StartupTimeline.sinceJvmStart()).isPositive();

        StartupTimeline.logSummary("test");
        assertThat(StartupTimeline.phases()).isEmpty();
    }
}
