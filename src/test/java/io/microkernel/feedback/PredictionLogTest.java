package io.microkernel.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class PredictionLogTest {

    @TempDir
    Path dir;

    /** A clock the test moves by hand. */
    private static final class ManualClock extends Clock {
        // Read by the log's writer thread too.
        volatile long millis = 1_700_000_000_000L;

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    private final ManualClock clock = new ManualClock();

    /** What a two-row request hands over: its input (batch first), served by version 3 as classes 1 and 0. */
    private static List<NamedTensor> inputs(float value) {
        return List.of(new NamedTensor("input", Tensor.ofFloats(new long[] {2, 2}, value, -value, value + 1, 0)));
    }

    /** Hands a prediction over and waits until the writer appended it. */
    private static void record(PredictionLog log, String id, float value) {
        assertThat(log.served(id, 3, inputs(value), new int[] {1, 0})).isTrue();
        log.flush();
    }

    private PredictionLog open(Duration retention, int maxEntries) {
        return PredictionLog.open(dir, new PredictionLog.Settings(retention, 1.0, maxEntries), clock);
    }

    @Test
    void aLoggedPredictionSurvivesARestartWithItsInputsVersionAndPredictions() {
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            record(log, "a", 0.5f);
            record(log, "b", 2f);
        }
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            LoggedPrediction a = log.find("a").orElseThrow();
            assertThat(a.version()).isEqualTo(3);
            assertThat(a.predicted()).containsExactly(1, 0);
            assertThat(a.rows()).hasSize(2);
            assertThat(a.rows().get(0).get("input")).isEqualTo(Tensor.ofFloats(new long[] {2}, 0.5f, -0.5f));
            assertThat(log.find("b")).isPresent();
            assertThat(log.find("c")).isEmpty();
            assertThat(log.size()).isEqualTo(2);
        }
    }

    @Test
    void predictionsExpireAfterTheRetentionWindowAndTheirSegmentsAreDeleted() throws Exception {
        long start = clock.millis;
        try (PredictionLog log = open(Duration.ofMinutes(8), 100)) {
            record(log, "old", 1f);
            clock.millis += Duration.ofMinutes(5).toMillis();
            record(log, "newer", 2f);
            assertThat(log.find("old")).isPresent();
            clock.millis += Duration.ofMinutes(4).toMillis();
            assertThat(log.find("old")).as("9 minutes old, retention 8").isEmpty();
            assertThat(log.find("newer")).isPresent();
            clock.millis += Duration.ofMinutes(20).toMillis();
            record(log, "latest", 3f);
        }
        try (Stream<Path> files = Files.list(dir)) {
            // The first segment ("old") is gone: its successor started before the cutoff. The second
            // ("newer") stays until the segment after it is older than the window too.
            assertThat(files.map(f -> f.getFileName().toString()).sorted().toList())
                    .containsExactly("predictions-" + (start + Duration.ofMinutes(5).toMillis()) + ".log",
                            "predictions-" + clock.millis + ".log");
        }
        try (PredictionLog log = open(Duration.ofMinutes(8), 100)) {
            assertThat(log.find("newer")).isEmpty();
            assertThat(log.find("latest")).isPresent();
        }
    }

    @Test
    void theLogKeepsAtMostMaxEntriesDroppingTheOldest() {
        try (PredictionLog log = open(Duration.ofHours(1), 3)) {
            for (int i = 0; i < 5; i++) {
                record(log, "p" + i, i);
            }
            assertThat(log.size()).isEqualTo(3);
            assertThat(log.find("p1")).isEmpty();
            assertThat(log.find("p4")).isPresent();
        }
    }

    @Test
    void aTornLastRecordIsCutOffAndTheRestKept() throws Exception {
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            record(log, "kept", 1f);
            record(log, "torn", 2f);
        }
        Path segment;
        try (Stream<Path> files = Files.list(dir)) {
            segment = files.findFirst().orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 5);
        }
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            assertThat(log.find("kept")).isPresent();
            assertThat(log.find("torn")).isEmpty();
            record(log, "after", 3f);
        }
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            assertThat(log.find("after")).as("appended after the cut, in a segment of its own").isPresent();
        }
    }

    @Test
    @Timeout(120)
    void aFullQueueDropsAndCountsThePredictionInsteadOfBlockingTheRequest() throws Exception {
        CountDownLatch writerBusy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // A shared side that holds the writer up, as a slow disk would: the queue behind it fills.
        PredictionLog.Shared stuck = new PredictionLog.Shared() {
            @Override
            public void put(String id, byte[] record) {
                writerBusy.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public Optional<byte[]> find(String id) {
                return Optional.empty();
            }
        };
        try (PredictionLog log = PredictionLog.open(dir, new PredictionLog.Settings(Duration.ofHours(1), 1.0, 100),
                clock, Optional.of(stuck), 2)) {
            assertThat(log.served("p0", 3, inputs(0), new int[] {1, 0})).isTrue();
            assertThat(writerBusy.await(60, TimeUnit.SECONDS)).as("the writer took p0").isTrue();
            assertThat(log.served("p1", 3, inputs(1), new int[] {1, 0})).isTrue();
            assertThat(log.served("p2", 3, inputs(2), new int[] {1, 0})).as("no room: dropped, not waited for")
                    .isFalse();
            assertThat(log.droppedQueueFull()).isEqualTo(1);
            assertThat(log.dropped()).isEqualTo(1);

            release.countDown();
            assertThat(log.find("p0")).isPresent();
            assertThat(log.find("p1")).isPresent();
            assertThat(log.find("p2")).as("a prediction that was not logged cannot receive feedback").isEmpty();
            assertThat(log.served("p3", 3, inputs(3), new int[] {1, 0})).as("room again").isTrue();
            assertThat(log.find("p3")).isPresent();
        }
    }

    @Test
    void closeWritesWhatWasHandedOverBeforeIt() {
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            for (int i = 0; i < 50; i++) {
                assertThat(log.served("q" + i, 3, inputs(i), new int[] {1, 0})).isTrue();
            }
        }
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            assertThat(log.size()).isEqualTo(50);
            assertThat(log.find("q49").orElseThrow().rows().get(1).get("input"))
                    .isEqualTo(Tensor.ofFloats(new long[] {2}, 50f, 0f));
        }
    }

    @Test
    void anIdThisLogLacksIsLookedUpInTheSharedLogWithinTheRetentionWindow() throws Exception {
        Map<String, byte[]> fleet = new ConcurrentHashMap<>();
        PredictionLog.Shared shared = new PredictionLog.Shared() {
            @Override
            public void put(String id, byte[] record) {
                fleet.put(id, record);
            }

            @Override
            public Optional<byte[]> find(String id) {
                return Optional.ofNullable(fleet.get(id));
            }
        };
        PredictionLog.Settings settings = new PredictionLog.Settings(Duration.ofMinutes(10), 1.0, 100);
        try (PredictionLog a = PredictionLog.open(dir.resolve("a"), settings, clock, Optional.of(shared));
                PredictionLog b = PredictionLog.open(dir.resolve("b"), settings, clock, Optional.of(shared))) {
            record(a, "served-by-a", 4f);
            assertThat(b.size()).as("b logged nothing itself").isZero();
            LoggedPrediction found = b.find("served-by-a").orElseThrow();
            assertThat(found.version()).isEqualTo(3);
            assertThat(found.predicted()).containsExactly(1, 0);
            assertThat(found.rows().get(0).get("input")).isEqualTo(Tensor.ofFloats(new long[] {2}, 4f, -4f));
            assertThat(b.find("never-served")).isEmpty();

            clock.millis += Duration.ofMinutes(11).toMillis();
            assertThat(b.find("served-by-a")).as("older than the retention window").isEmpty();
        }
    }

    @Test
    void theSamplingRatePicksThatShareOfRequests() {
        try (PredictionLog quarter = PredictionLog.open(dir.resolve("quarter"),
                new PredictionLog.Settings(Duration.ofHours(1), 0.25, 100), clock)) {
            long sampled = java.util.stream.IntStream.range(0, 20_000).filter(i -> quarter.sampled()).count();
            // 5,000 expected; the bounds are about ten standard deviations (61) away.
            assertThat(sampled).isBetween(4_400L, 5_600L);
        }
        try (PredictionLog all = open(Duration.ofHours(1), 100)) {
            assertThat(java.util.stream.IntStream.range(0, 1_000).allMatch(i -> all.sampled())).isTrue();
        }
    }

    @Test
    void settingsOutOfRangeAreRefusedWithTheirKey() {
        assertThatThrownBy(() -> new PredictionLog.Settings(Duration.ofHours(1), 0, 10))
                .hasMessageContaining("microkernel.feedback.sampling-rate").hasMessageContaining("found 0.0");
        assertThatThrownBy(() -> new PredictionLog.Settings(Duration.ZERO, 1, 10))
                .hasMessageContaining("microkernel.feedback.retention");
    }
}
