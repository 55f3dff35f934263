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

    @Test
    void aPhaseBesideTheMainSequenceLeavesTheMarkWhereItIs() throws InterruptedException {
        StartupTimeline.logSummary("before this test");
        StartupTimeline.sinceMark("marked");
        Thread.sleep(20);
        StartupTimeline.alongside("on another thread", System.nanoTime() - 5_000_000);
        StartupTimeline.sinceMark("main sequence");

        assertThat(StartupTimeline.phases()).matches("marked \\d+ ms, on another thread \\d+ ms, main sequence \\d+ ms");
        long mainSequence = Long.parseLong(StartupTimeline.phases().replaceAll(".*main sequence (\\d+) ms", "$1"));
        assertThat(mainSequence).as("the main sequence counts from its own mark, 20 ms before").isGreaterThanOrEqualTo(20);
        StartupTimeline.logSummary("test");
    }
}
