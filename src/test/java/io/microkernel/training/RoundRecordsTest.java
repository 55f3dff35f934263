package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundRecordsTest {

    @TempDir
    Path dir;

    private static final RoundSettings SETTINGS = new RoundSettings(3, 16, 0.05, 0.9, 0.3);

    @Test
    void aFinishedRoundReadsBackWithItsMetricsAndDecision() {
        RoundRecords records = RoundRecords.open(dir);
        long id = records.nextId();
        EvaluationMetrics active = new EvaluationMetrics(10, 1.5, 0.4, null, Map.of("cat", 0.4), Map.of("cat", 10));
        EvaluationMetrics candidate = new EvaluationMetrics(10, 0.2, 0.9, null, Map.of("cat", 0.9), Map.of("cat", 10));
        PromotionDecision decision = new PromotionGate(new PromotionGate.Thresholds(0, java.util.OptionalDouble.empty(), 0.1))
                .decide(active, candidate);
        RoundRecord done = RoundRecord.queued(id, "default", "manual", 42, SETTINGS)
                .running(1, new RoundRecord.SampleCounts(40, 30, 10, 10, 50), 9)
                .withMetrics(active, candidate, decision)
                .promoted(2);
        records.save(done);

        RoundRecord read = RoundRecords.open(dir).find(id).orElseThrow();
        assertThat(read).isEqualTo(done);
        assertThat(read.state()).isEqualTo(RoundState.PROMOTED);
        assertThat(read.decision().reason()).startsWith("promoted: accuracy 0.9000 vs active 0.4000");
        assertThat(RoundRecords.toJson(read)).contains("\"state\" : \"promoted\"");
    }

    @Test
    void aRoundLeftRunningOrQueuedIsFailedWithItsCauseOnOpen() {
        RoundRecords records = RoundRecords.open(dir);
        RoundRecord running = RoundRecord.queued(records.nextId(), "default", "manual", 1, SETTINGS)
                .running(1, new RoundRecord.SampleCounts(4, 4, 0, 1, 5), 3);
        RoundRecord queued = RoundRecord.queued(records.nextId(), "default", "interval", 2, SETTINGS);
        RoundRecord rejected = RoundRecord.queued(records.nextId(), "default", "manual", 3, SETTINGS).rejected();
        records.save(running);
        records.save(queued);
        records.save(rejected);

        RoundRecords reopened = RoundRecords.open(dir);
        assertThat(reopened.page(0, 100)).extracting(RoundRecord::state)
                .containsExactly(RoundState.FAILED, RoundState.FAILED, RoundState.REJECTED);
        assertThat(reopened.find(1).orElseThrow().cause()).isEqualTo(RoundRecords.INTERRUPTED_CAUSE);
        assertThat(reopened.find(1).orElseThrow().finishedAt()).isNotNull();
        assertThat(reopened.find(3).orElseThrow().cause()).isNull();
        // The failure is on disk, not only in memory, and ids go on after the newest one.
        assertThat(RoundRecords.open(dir).find(2).orElseThrow().state()).isEqualTo(RoundState.FAILED);
        assertThat(reopened.nextId()).isEqualTo(4);
    }

    @Test
    void progressUpdatesReachListenersWithoutTouchingTheFileAndAHalfWrittenTempFileIsIgnored() throws Exception {
        RoundRecords records = RoundRecords.open(dir);
        List<RoundRecord> seen = new ArrayList<>();
        records.addListener(seen::add);
        RoundRecord running = RoundRecord.queued(records.nextId(), "default", "manual", 1, SETTINGS)
                .running(1, new RoundRecord.SampleCounts(4, 4, 0, 1, 5), 3);
        records.save(running);
        Path file = dir.resolve("round-000001.json");
        String stored = Files.readString(file);
        records.update(running.withProgress(new RoundRecord.Progress(1, 3, 2, 9, 0.7, "training")));
        assertThat(Files.readString(file)).isEqualTo(stored);
        assertThat(seen).hasSize(2);
        assertThat(records.find(1).orElseThrow().progress().step()).isEqualTo(2);

        Files.writeString(dir.resolve("round-000002.json.tmp"), "{\"id\": 2, \"sta");
        assertThat(RoundRecords.open(dir).page(0, 100)).extracting(RoundRecord::id).containsExactly(1L);
    }

    /** The console draws a finished round's loss per epoch from the record. */
    @Test
    void progressKeepsEachEpochsLastLossAndTheFinishedRecordReadsThemBack() {
        RoundRecords records = RoundRecords.open(dir);
        RoundRecord round = RoundRecord.queued(records.nextId(), "default", "manual", 1, SETTINGS)
                .running(1, new RoundRecord.SampleCounts(4, 4, 0, 1, 5), 6);
        assertThat(round.progress().epochLosses()).isEmpty();
        round = round.withProgress(new RoundRecord.Progress(1, 3, 1, 6, 0.9, "training"))
                .withProgress(new RoundRecord.Progress(1, 3, 2, 6, 0.8, "training"));
        assertThat(round.progress().epochLosses()).containsExactly(0.8);
        round = round.withProgress(new RoundRecord.Progress(2, 3, 3, 6, 0.5, "training"))
                .withProgress(new RoundRecord.Progress(2, 3, 4, 6, 0.4, "training"))
                .withProgress(new RoundRecord.Progress(3, 3, 6, 6, 0.3, "training"))
                .withProgress(new RoundRecord.Progress(3, 3, 6, 6, 0.3, "evaluating"));
        assertThat(round.progress().epochLosses()).containsExactly(0.8, 0.4, 0.3);
        RoundRecord done = round.rejected();
        assertThat(done.progress().phase()).isEqualTo("done");
        records.save(done);

        RoundRecord read = RoundRecords.open(dir).find(done.id()).orElseThrow();
        assertThat(read.progress().epochLosses()).containsExactly(0.8, 0.4, 0.3);
        assertThat(RoundRecords.toJson(read)).contains("\"epoch_losses\"");
    }

    @Test
    void aRecordWrittenBeforeEpochLossesExistedReadsWithNone() throws Exception {
        RoundRecords records = RoundRecords.open(dir);
        RoundRecord done = RoundRecord.queued(records.nextId(), "default", "manual", 1, SETTINGS)
                .running(1, new RoundRecord.SampleCounts(4, 4, 0, 1, 5), 6).rejected();
        records.save(done);
        Path file = dir.resolve("round-000001.json");
        String json = Files.readString(file);
        assertThat(json).contains("\"epoch_losses\" : [ ]");
        Files.writeString(file, json.replace(",\n    \"epoch_losses\" : [ ]", ""));
        assertThat(Files.readString(file)).doesNotContain("epoch_losses");
        assertThat(RoundRecords.open(dir).find(1).orElseThrow().progress().epochLosses()).isEmpty();
    }

    /** Issue 10, defect 7: a failure cause from ORT names files by absolute path; the record does not. */
    @Test
    void failureCausesDoNotExposeAbsoluteServerPaths() {
        RoundRecord queued = RoundRecord.queued(1, "m", "manual", 1, new RoundSettings(1, 8, 0.01, 1.0, 0.3));
        RoundRecord failed = queued.failed("Loading checkpoint from /var/lib/microkernel/data/models/m/versions/3/checkpoint"
                + " failed. Only 0/4096 bytes could be read; see '/tmp/microkernel-ort-123/libonnxruntime.so.1'");
        assertThat(failed.cause()).isEqualTo("Loading checkpoint from .../checkpoint failed. Only 0/4096 bytes could be"
                + " read; see '.../libonnxruntime.so.1'");
        assertThat(queued.cancelled("cancelled on request").cause()).isEqualTo("cancelled on request");
        assertThat(queued.failed("expected shape [-1,4], found [1,5]; 3/4 done").cause())
                .isEqualTo("expected shape [-1,4], found [1,5]; 3/4 done");
    }

    /** Issue 10, defect 7: the history is read a page at a time, after a given id. */
    @Test
    void pagesFollowEachOtherOldestFirst() {
        RoundRecords records = RoundRecords.open(dir);
        for (int i = 0; i < 5; i++) {
            records.save(RoundRecord.queued(records.nextId(), "m", "manual", i, SETTINGS).rejected());
        }
        assertThat(records.page(0, 2)).extracting(RoundRecord::id).containsExactly(1L, 2L);
        assertThat(records.page(2, 2)).extracting(RoundRecord::id).containsExactly(3L, 4L);
        assertThat(records.page(4, 2)).extracting(RoundRecord::id).containsExactly(5L);
        assertThat(records.page(5, 2)).isEmpty();
    }

    /**
     * Issue 10, defect 7: memory holds a window of recent rounds however long the history; older pages
     * come from the files, and a restart reads the same history back.
     */
    @Test
    void aThousandRoundsKeepOnlyTheWindowInMemoryAndEveryPageIsStillRight() {
        int window = 40;
        RoundRecords records = RoundRecords.open(dir, window);
        List<RoundRecord> expected = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            RoundRecord queued = RoundRecord.queued(records.nextId(), "m", "manual", i, SETTINGS);
            records.update(queued);
            RoundRecord running = queued.running(1, new RoundRecord.SampleCounts(10, 10, 0, 2, 10L * (i + 1)), 3);
            records.update(running);
            RoundRecord done = i % 3 == 0 ? running.promoted(i + 2) : i % 3 == 1 ? running.rejected()
                    : running.failed("expected finite losses, found NaN in round " + i);
            records.save(done);
            expected.add(done);
            assertThat(records.inMemory()).isLessThanOrEqualTo(window);
        }
        assertThat(records.count()).isEqualTo(1000);
        assertEveryPageMatches(records, expected);

        RoundRecords reopened = RoundRecords.open(dir, window);
        assertThat(reopened.inMemory()).isEqualTo(window);
        assertThat(reopened.count()).isEqualTo(1000);
        assertThat(reopened.latest()).contains(expected.get(999));
        assertThat(reopened.newestTrained()).contains(expected.get(999));
        assertThat(reopened.nextId()).isEqualTo(1001);
        assertEveryPageMatches(reopened, expected);
        // Searches reach below the window: the newest promoted round before round 500 is round 499 (i = 498).
        assertThat(reopened.newest(500, r -> r.state() == RoundState.PROMOTED)).contains(expected.get(498));
        assertThat(reopened.newest(3, r -> r.state() == RoundState.FAILED)).isEmpty();
        assertThat(reopened.newest(1001, r -> r.seed() == 7)).contains(expected.get(7));
        assertThat(reopened.inMemory()).isEqualTo(window);
    }

    private static void assertEveryPageMatches(RoundRecords records, List<RoundRecord> expected) {
        for (int limit : new int[] {7, 100, 1001}) {
            List<RoundRecord> walked = new ArrayList<>();
            long after = 0;
            while (true) {
                List<RoundRecord> page = records.page(after, limit);
                assertThat(page.size()).isLessThanOrEqualTo(limit);
                walked.addAll(page);
                if (page.size() < limit) {
                    break;
                }
                after = page.get(page.size() - 1).id();
            }
            assertThat(walked).as("pages of %d", limit).isEqualTo(expected);
        }
        for (long after : new long[] {0, 1, 499, 900, 959, 960, 961, 999, 1000, 5000}) {
            int from = (int) Math.min(after, expected.size());
            assertThat(records.page(after, 50)).as("50 after %d", after)
                    .isEqualTo(expected.subList(from, Math.min(from + 50, expected.size())));
        }
        assertThat(records.find(3)).contains(expected.get(2));
        assertThat(records.find(1000)).contains(expected.get(999));
        assertThat(records.find(1001)).isEmpty();
    }

    /** A round left open long ago stays in memory while open, and reads back as interrupted after a restart. */
    @Test
    void anOldOpenRoundStaysInMemoryAndIsInterruptedAfterARestartBelowTheWindow() {
        RoundRecords records = RoundRecords.open(dir, 10);
        RoundRecord stuck = RoundRecord.queued(records.nextId(), "m", "manual", 1, SETTINGS)
                .running(1, new RoundRecord.SampleCounts(4, 4, 0, 1, 5), 3);
        records.save(stuck);
        for (int i = 0; i < 100; i++) {
            records.save(RoundRecord.queued(records.nextId(), "m", "interval", i, SETTINGS).rejected());
        }
        assertThat(records.inMemory()).isEqualTo(10);
        assertThat(records.open()).containsExactly(stuck);
        assertThat(records.page(0, 2)).extracting(RoundRecord::id).containsExactly(1L, 2L);

        RoundRecords reopened = RoundRecords.open(dir, 10);
        assertThat(reopened.open()).isEmpty();
        assertThat(reopened.inMemory()).isEqualTo(10);
        RoundRecord interrupted = reopened.find(1).orElseThrow();
        assertThat(interrupted.state()).isEqualTo(RoundState.FAILED);
        assertThat(interrupted.cause()).isEqualTo(RoundRecords.INTERRUPTED_CAUSE);
        assertThat(reopened.page(0, 1)).containsExactly(interrupted);
        assertThat(reopened.newestTrained()).contains(interrupted);
        // On disk, not only in memory: a second restart reads it the same.
        assertThat(RoundRecords.open(dir, 10).find(1)).contains(interrupted);
    }

    /** A finished state that could not be written stays in memory rather than falling back to the stale file. */
    @Test
    void aRecordOnlyInMemoryIsNeverDroppedAndAMissingOldFileIsSkipped() throws Exception {
        RoundRecords records = RoundRecords.open(dir, 5);
        RoundRecord running = RoundRecord.queued(records.nextId(), "m", "manual", 1, SETTINGS)
                .running(1, new RoundRecord.SampleCounts(4, 4, 0, 1, 5), 3);
        records.save(running);
        RoundRecord cancelled = running.cancelled("cancelled on request");
        records.update(cancelled);
        for (int i = 0; i < 30; i++) {
            records.save(RoundRecord.queued(records.nextId(), "m", "interval", i, SETTINGS).rejected());
        }
        assertThat(records.find(1)).contains(cancelled);
        assertThat(records.page(0, 1)).containsExactly(cancelled);
        assertThat(records.inMemory()).isEqualTo(5);

        Files.delete(dir.resolve("round-000003.json"));
        assertThat(records.page(0, 4)).extracting(RoundRecord::id).containsExactly(1L, 2L, 4L, 5L);
        assertThat(records.find(3)).isEmpty();
        assertThat(RoundRecords.open(dir, 5).page(1, 3)).extracting(RoundRecord::id).containsExactly(2L, 4L, 5L);
    }
}
