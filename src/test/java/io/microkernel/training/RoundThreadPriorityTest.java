package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RoundThreadPriorityTest {

    @Test
    void theCallingThreadAloneRunsAtTheLowerPriority() throws Exception {
        assumeTrue(Files.exists(Path.of("/proc/thread-self")), "Linux only");
        OptionalInt before = RoundThreadPriority.currentNice();
        assumeTrue(before.isPresent() && before.getAsInt() < 7, "the test runs below nice 7");

        CompletableFuture<int[]> inThread = new CompletableFuture<>();
        Thread round = new Thread(() -> {
            boolean lowered = RoundThreadPriority.lowerCurrentThread(7);
            inThread.complete(new int[] {lowered ? 1 : 0, RoundThreadPriority.currentNice().orElse(-100)});
        });
        round.start();
        int[] result = inThread.get();
        round.join();

        assumeTrue(result[0] == 1, "renice is available");
        assertThat(result[1]).isEqualTo(7);
        assertThat(RoundThreadPriority.currentNice()).as("other threads keep theirs").isEqualTo(before);
    }

    @Test
    void zeroLeavesThePriorityAsItIs() {
        OptionalInt before = RoundThreadPriority.currentNice();
        assertThat(RoundThreadPriority.lowerCurrentThread(0)).isFalse();
        assertThat(RoundThreadPriority.currentNice()).isEqualTo(before);
    }
}
