package io.microkernel.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PredictionLogTest {

    @TempDir
    Path dir;

    /** A clock the test moves by hand. */
    private static final class ManualClock extends Clock {
        long millis = 1_700_000_000_000L;

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

    private LoggedPrediction prediction(String id, float value) {
        return new LoggedPrediction(id, clock.millis(), 3,
                List.of(Map.of("input", Tensor.ofFloats(new long[] {2}, value, -value)),
                        Map.of("input", Tensor.ofFloats(new long[] {2}, value + 1, 0))),
                List.of(1, 0));
    }

    private PredictionLog open(Duration retention, int maxEntries) {
        return PredictionLog.open(dir, new PredictionLog.Settings(retention, 1.0, maxEntries), clock);
    }

    @Test
    void aLoggedPredictionSurvivesARestartWithItsInputsVersionAndPredictions() {
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            log.record(prediction("a", 0.5f));
            log.record(prediction("b", 2f));
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
            log.record(prediction("old", 1f));
            clock.millis += Duration.ofMinutes(5).toMillis();
            log.record(prediction("newer", 2f));
            assertThat(log.find("old")).isPresent();
            clock.millis += Duration.ofMinutes(4).toMillis();
            assertThat(log.find("old")).as("9 minutes old, retention 8").isEmpty();
            assertThat(log.find("newer")).isPresent();
            clock.millis += Duration.ofMinutes(20).toMillis();
            log.record(prediction("latest", 3f));
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
                log.record(prediction("p" + i, i));
            }
            assertThat(log.size()).isEqualTo(3);
            assertThat(log.find("p1")).isEmpty();
            assertThat(log.find("p4")).isPresent();
        }
    }

    @Test
    void aTornLastRecordIsCutOffAndTheRestKept() throws Exception {
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            log.record(prediction("kept", 1f));
            log.record(prediction("torn", 2f));
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
            log.record(prediction("after", 3f));
        }
        try (PredictionLog log = open(Duration.ofHours(1), 100)) {
            assertThat(log.find("after")).as("appended after the cut, in a segment of its own").isPresent();
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
