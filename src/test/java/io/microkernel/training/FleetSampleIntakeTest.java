package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.microkernel.fleet.Fleet;
import io.microkernel.fleet.FleetSettings;
import io.microkernel.tensor.Tensor;
import io.microkernel.testing.NatsServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Samples in fleet mode against a real nats-server: acknowledged once with the stream sequence as
 * id, replayed for a retried key, refused with 429 when the stream is full, and copied into a
 * replica's journal exactly once however often they are delivered.
 */
class FleetSampleIntakeTest {

    @TempDir
    Path dir;

    private NatsServer nats;
    private Fleet fleet;
    private SampleJournal journal;

    @AfterEach
    void stop() throws Exception {
        if (journal != null) {
            journal.close();
        }
        if (fleet != null) {
            fleet.close();
        }
        if (nats != null) {
            nats.close();
        }
    }

    private static List<LabelledInput> batch(int n, float offset) {
        return IntStream.range(0, n).mapToObj(i -> new LabelledInput(
                Map.of("input", Tensor.ofFloats(new long[] {2}, new float[] {offset + i, -i})),
                new SampleLabel.ClassIndex(i % 2))).toList();
    }

    @Test
    void samplesAreStoredOnceInTheStreamAndOnceInEachJournal() throws Exception {
        nats = NatsServer.start(dir.resolve("nats"));
        fleet = Fleet.open(new FleetSettings(nats.url(), "default", "r1", true, Duration.ofSeconds(2),
                Duration.ofSeconds(2), 6, Duration.ofMinutes(2), ""));
        await().atMost(Duration.ofSeconds(10)).until(fleet.connection()::isConnected);
        FleetSampleIntake intake = new FleetSampleIntake(fleet.samples(), 6, 9);

        SampleJournal.Appended first = intake.accept(batch(3, 0), "key-1");
        assertThat(first.replayed()).isFalse();
        assertThat(first.samples()).extracting(Sample::id).containsExactly(1L, 2L, 3L);
        SampleJournal.Appended retry = intake.accept(batch(3, 0), "key-1");
        assertThat(retry.replayed()).isTrue();
        assertThat(retry.samples()).extracting(Sample::id).containsExactly(1L, 2L, 3L);
        assertThat(intake.accept(batch(2, 10), null).samples()).extracting(Sample::id).containsExactly(4L, 5L);

        assertThatThrownBy(() -> intake.accept(batch(2, 20), null)).isInstanceOf(SampleBufferFullException.class)
                .satisfies(e -> assertThat(((SampleBufferFullException) e).headers()).containsEntry("Retry-After", "9"));

        journal = SampleJournal.open(dir.resolve("journal"), SampleJournal.Settings.of(100, 0.2));
        AtomicBoolean stop = new AtomicBoolean();
        Thread consumer = new Thread(() -> FleetSampleIntake.consume(fleet.samples(), journal, () -> { }, stop::get));
        consumer.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> journal.stats().total() == 5);
        stop.set(true);
        consumer.join(5000);
        List<Sample> held = journal.snapshot().samples();
        assertThat(held).extracting(Sample::id).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(held.get(3).inputs().get("input").getDouble(0)).isEqualTo(10.0);

        // A redelivery (the server restarted before it saw the ack) stores nothing twice.
        assertThat(journal.appendReplicated(held)).isZero();
        assertThat(journal.stats().total()).isEqualTo(5);
    }
}
