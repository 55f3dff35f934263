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
        assertThat(reopened.list()).extracting(RoundRecord::state)
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
        assertThat(RoundRecords.open(dir).list()).extracting(RoundRecord::id).containsExactly(1L);
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
}
