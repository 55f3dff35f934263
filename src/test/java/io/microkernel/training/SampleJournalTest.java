package io.microkernel.training;

import io.microkernel.tensor.Tensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleJournalTest {

    @TempDir
    Path dir;

    private static LabelledInput classSample(float value, int label) {
        return new LabelledInput(Map.of("input", Tensor.ofFloats(new long[] {2}, new float[] {value, -value})),
                new SampleLabel.ClassIndex(label));
    }

    private static LabelledInput everyDtypeSample() {
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("f", Tensor.ofFloats(new long[] {2, 2}, new float[] {1.5f, Float.MIN_VALUE, -3f, 0f}));
        inputs.put("d", Tensor.ofDoubles(new long[] {1}, new double[] {Math.PI}));
        inputs.put("i", Tensor.ofInts(new long[] {3}, new int[] {Integer.MIN_VALUE, 0, 7}));
        inputs.put("l", Tensor.ofLongs(new long[] {2}, new long[] {Long.MAX_VALUE, -1}));
        inputs.put("b", Tensor.ofBooleans(new long[] {2}, new boolean[] {true, false}));
        return new LabelledInput(inputs, new SampleLabel.Target(new long[] {1}, new float[] {0.25f}));
    }

    private SampleJournal open(int maxSamples, int segmentSamples) {
        return SampleJournal.open(dir, new SampleJournal.Settings(maxSamples, 0.2, segmentSamples, 7));
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".journal")).sorted().toList();
        }
    }

    @Test
    void aFullDiskIsA507ThatStoresNothingAndTheJournalRecoversWhenSpaceReturns() {
        java.util.concurrent.atomic.AtomicBoolean full = new java.util.concurrent.atomic.AtomicBoolean();
        SampleJournal.Disk disk = (channel, records) -> {
            if (full.get()) {
                // What the kernel does on ENOSPC: part of the batch reaches the file, then the write fails.
                records.limit(records.position() + records.remaining() / 2);
                channel.write(records);
                throw new IOException("No space left on device");
            }
            SampleJournal.Disk.FILES.write(channel, records);
        };
        SampleJournal.Settings settings = new SampleJournal.Settings(100, 0.2, 100, 7);
        try (SampleJournal journal = SampleJournal.open(dir, settings, disk)) {
            journal.append(List.of(classSample(1, 0)));
            full.set(true);
            assertThatThrownBy(() -> journal.append(List.of(classSample(2, 1), classSample(3, 2))))
                    .isInstanceOfSatisfying(StorageFullException.class, e -> {
                        assertThat(e.status()).isEqualTo(507);
                        assertThat(e.headers()).containsEntry("Retry-After", "7");
                    })
                    .hasMessageContaining("found it full (No space left on device); nothing was stored");
            assertThat(journal.stats().total()).isEqualTo(1);

            full.set(false);
            List<Sample> later = journal.append(List.of(classSample(4, 1)));
            assertThat(later).extracting(Sample::id).allSatisfy(id -> assertThat(id).isGreaterThan(1L));
            assertThat(journal.stats().total()).isEqualTo(2);
        }
        try (SampleJournal reopened = SampleJournal.open(dir, settings)) {
            // Exactly the acknowledged samples: the half-written batch was cut off, the later one follows it.
            assertThat(reopened.snapshot().samples()).extracting(s -> s.inputs().get("input").getDouble(0))
                    .containsExactly(1.0, 4.0);
        }
    }

    @Test
    void idsIncreaseAndEveryDtypeSurvivesAReopen() {
        List<Sample> written = new ArrayList<>();
        try (SampleJournal journal = open(100, 10)) {
            written.addAll(journal.append(List.of(classSample(1, 0), classSample(2, 1))));
            written.addAll(journal.append(List.of(everyDtypeSample())));
        }
        assertThat(written).extracting(Sample::id).containsExactly(1L, 2L, 3L);
        try (SampleJournal reopened = open(100, 10)) {
            List<Sample> read = reopened.snapshot().samples();
            assertThat(read).containsExactlyElementsOf(written);
            assertThat(read.get(2).inputs()).containsOnlyKeys("f", "d", "i", "l", "b");
            assertThat(read.get(2).label()).isEqualTo(new SampleLabel.Target(new long[] {1}, new float[] {0.25f}));
            assertThat(reopened.append(List.of(classSample(3, 0))).get(0).id()).isEqualTo(4L);
        }
    }

    @Test
    void aTornLastRecordIsCutOffAndEverythingBeforeItIsKept() throws IOException {
        try (SampleJournal journal = open(100, 100)) {
            journal.append(List.of(classSample(1, 0), classSample(2, 1), classSample(3, 2)));
        }
        Path segment = segments().get(0);
        long full = Files.size(segment);
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            channel.truncate(full - 5); // a crash in the middle of writing the third record
        }
        try (SampleJournal journal = open(100, 100)) {
            assertThat(journal.snapshot().samples()).extracting(Sample::id).containsExactly(1L, 2L);
            assertThat(journal.stats().total()).isEqualTo(2);
            // The torn bytes are gone, so a new append lands right after the last good record.
            List<Sample> added = journal.append(List.of(classSample(9, 1)));
            assertThat(added.get(0).id()).isEqualTo(3L);
        }
        try (SampleJournal journal = open(100, 100)) {
            assertThat(journal.snapshot().samples()).extracting(Sample::id).containsExactly(1L, 2L, 3L);
            assertThat(journal.snapshot().samples().get(2)).isEqualTo(
                    new Sample(3L, journal.snapshot().samples().get(2).receivedAtMillis(),
                            classSample(9, 1).inputs(), new SampleLabel.ClassIndex(1)));
        }
    }

    @Test
    void aRecordWithAFlippedByteAndGarbageAfterTheLastRecordAreDropped() throws IOException {
        try (SampleJournal journal = open(100, 100)) {
            journal.append(List.of(classSample(1, 0), classSample(2, 1)));
        }
        Path segment = segments().get(0);
        byte[] bytes = Files.readAllBytes(segment);
        bytes[bytes.length - 3] ^= 0x40; // corrupt the payload of the second record
        Files.write(segment, bytes);
        Files.write(segment, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        try (SampleJournal journal = open(100, 100)) {
            assertThat(journal.snapshot().samples()).extracting(Sample::id).containsExactly(1L);
        }
    }

    @Test
    void aFullBufferRefusesWithRetryAfterUntilAPromotedRoundConsumedWholeSegments() throws IOException {
        try (SampleJournal journal = open(4, 2)) {
            journal.append(List.of(classSample(1, 0), classSample(2, 1)));
            journal.append(List.of(classSample(3, 0), classSample(4, 1)));
            assertThatThrownBy(() -> journal.append(List.of(classSample(5, 0))))
                    .isInstanceOf(SampleBufferFullException.class)
                    .hasMessageContaining("holds 4 of 4")
                    .satisfies(e -> assertThat(((SampleBufferFullException) e).retryAfterSeconds()).isEqualTo(7));
            assertThat(segments()).hasSize(2);

            journal.markConsumed(2);
            List<Sample> added = journal.append(List.of(classSample(5, 0)));
            assertThat(added.get(0).id()).isEqualTo(5L);
            assertThat(journal.snapshot().samples()).extracting(Sample::id).containsExactly(3L, 4L, 5L);
            assertThat(journal.stats().total()).isEqualTo(3);
        }
        try (SampleJournal journal = open(4, 2)) {
            assertThat(journal.consumedThrough()).isEqualTo(2);
            assertThat(journal.snapshot().samples()).extracting(Sample::id).containsExactly(3L, 4L, 5L);
        }
    }

    @Test
    void aBatchLargerThanTheBufferOrEmptyIsInvalid() {
        try (SampleJournal journal = open(2, 2)) {
            assertThatThrownBy(() -> journal.append(List.of(classSample(1, 0), classSample(1, 0), classSample(1, 0))))
                    .isInstanceOf(InvalidSampleException.class)
                    .hasMessageContaining("expected at most 2").hasMessageContaining("found 3");
            assertThatThrownBy(() -> journal.append(List.of()))
                    .isInstanceOf(InvalidSampleException.class).hasMessageContaining("found 0");
        }
    }

    @Test
    void holdoutSplitDependsOnlyOnTheIdAndStatsCountIt() {
        long holdout = 0;
        for (long id = 1; id <= 10_000; id++) {
            boolean a = SampleJournal.isHoldout(id, 0.2);
            assertThat(SampleJournal.isHoldout(id, 0.2)).isEqualTo(a);
            if (a) {
                holdout++;
            }
            // A larger fraction holds out a superset, so raising it never moves a sample into training.
            if (a) {
                assertThat(SampleJournal.isHoldout(id, 0.5)).isTrue();
            }
        }
        assertThat(holdout).isBetween(1800L, 2200L);

        try (SampleJournal journal = open(1000, 100)) {
            List<LabelledInput> batch = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                batch.add(classSample(i, i % 3));
            }
            journal.append(batch);
            SampleStats stats = journal.stats();
            long expectedHoldout = journal.snapshot().samples().stream()
                    .filter(s -> SampleJournal.isHoldout(s.id(), 0.2)).count();
            assertThat(stats.total()).isEqualTo(50);
            assertThat(stats.holdout()).isEqualTo(expectedHoldout).isPositive();
            assertThat(stats.train()).isEqualTo(50 - expectedHoldout);
            assertThat(stats.perClass()).containsEntry(0, 17L).containsEntry(1, 17L).containsEntry(2, 16L);
            assertThat(journal.snapshot().holdout()).hasSize((int) expectedHoldout);
            assertThat(journal.countNewerThan(45)).isEqualTo(5);
        }
    }

    /**
     * Issue 10, defect 8: a client that saw no 202 (the process died after the fsync) retries with the
     * same Idempotency-Key; the retry, before or after a restart, stores nothing and answers with the
     * first request's ids. The same key with other samples is refused.
     */
    @Test
    void aRetriedIdempotencyKeyIsStoredOnceAlsoAfterARestart() {
        List<LabelledInput> batch = List.of(classSample(1, 0), classSample(2, 1));
        List<Long> firstIds;
        try (SampleJournal journal = open(100, 10)) {
            journal.append(List.of(classSample(9, 2)));
            SampleJournal.Appended first = journal.append(batch, "order-42");
            assertThat(first.replayed()).isFalse();
            firstIds = first.samples().stream().map(Sample::id).toList();
            assertThat(firstIds).containsExactly(2L, 3L);

            SampleJournal.Appended retry = journal.append(batch, "order-42");
            assertThat(retry.replayed()).isTrue();
            assertThat(retry.samples()).containsExactlyElementsOf(first.samples());
            assertThat(journal.stats().total()).isEqualTo(3);
        }
        try (SampleJournal reopened = open(100, 10)) {
            SampleJournal.Appended afterRestart = reopened.append(batch, "order-42");
            assertThat(afterRestart.replayed()).isTrue();
            assertThat(afterRestart.samples()).extracting(Sample::id).containsExactlyElementsOf(firstIds);
            assertThat(reopened.stats().total()).isEqualTo(3);
            assertThatThrownBy(() -> reopened.append(List.of(classSample(5, 0)), "order-42"))
                    .isInstanceOf(IdempotencyKeyReusedException.class)
                    .hasMessage("Idempotency-Key 'order-42' was used for 2 other samples (ids 2..3): expected the same"
                            + " samples as the first request, found different ones");
            // Another key, or none, stores the same samples again: the key is what makes a retry.
            assertThat(reopened.append(batch, "order-43").samples()).extracting(Sample::id).containsExactly(4L, 5L);
            assertThat(reopened.append(batch)).extracting(Sample::id).containsExactly(6L, 7L);
        }
        try (SampleJournal again = open(100, 10)) {
            assertThat(again.stats().total()).as("key records are not samples").isEqualTo(7);
            assertThat(again.snapshot().samples()).extracting(Sample::id).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
        }
    }
}
