package io.microkernel.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.microkernel.testing.NatsServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fleet's parts against a real nats-server that the test starts, kills and restarts. */
class FleetPartsTest {

    @TempDir
    Path dir;

    private NatsServer nats;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void startNats() throws Exception {
        nats = NatsServer.start(dir);
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (nats != null) {
            nats.close();
        }
    }

    private Fleet fleet(String replica, boolean eligible, int maxSamples) {
        Fleet fleet = Fleet.open(new FleetSettings(nats.url(), "m.1", replica, eligible, Duration.ofSeconds(1),
                Duration.ofSeconds(2), maxSamples, Duration.ofMinutes(2), ""));
        open.add(0, fleet);
        await().atMost(Duration.ofSeconds(10)).until(fleet.connection()::isConnected);
        return fleet;
    }

    private static List<byte[]> payloads(int n) {
        return IntStream.range(0, n).mapToObj(i -> ("sample " + i).getBytes(StandardCharsets.UTF_8)).toList();
    }

    @Test
    void samplesAreAcknowledgedOnceRefusedWhenFullAndReadByEveryReplica() throws Exception {
        Fleet a = fleet("a", true, 6);
        List<SampleStream.Stored> first = a.samples().publish(payloads(3), List.of("x-0", "x-1", "x-2"));
        assertThat(first).extracting(SampleStream.Stored::sequence).containsExactly(1L, 2L, 3L);
        assertThat(first).noneMatch(SampleStream.Stored::duplicate);

        List<SampleStream.Stored> retry = a.samples().publish(payloads(3), List.of("x-0", "x-1", "x-2"));
        assertThat(retry).extracting(SampleStream.Stored::sequence).containsExactly(1L, 2L, 3L);
        assertThat(retry).allMatch(SampleStream.Stored::duplicate);
        assertThat(a.samples().count()).isEqualTo(3);

        assertThat(a.samples().publish(payloads(3), List.of("y-0", "y-1", "y-2")))
                .extracting(SampleStream.Stored::sequence).containsExactly(4L, 5L, 6L);
        assertThatThrownBy(() -> a.samples().publish(payloads(1), List.of("z-0")))
                .isInstanceOf(SampleStream.FullException.class).hasMessageContaining("full");
        assertThat(a.samples().count()).as("nothing of a refused batch is stored").isEqualTo(6);

        Fleet b = fleet("b", false, 6);
        List<Long> seen = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread reader = new Thread(() -> b.samples().consume(() -> seen.isEmpty() ? 0 : seen.get(seen.size() - 1),
                batch -> batch.forEach(m -> seen.add(m.sequence())), stop::get));
        reader.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() >= 6);
        stop.set(true);
        reader.join(5000);
        assertThat(seen).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);

        a.samples().purgeThrough(3);
        assertThat(a.samples().count()).isEqualTo(3);
        // A replica that starts after the purge copies what is left, from the stream's first message.
        List<Long> late = new CopyOnWriteArrayList<>();
        AtomicBoolean lateStop = new AtomicBoolean();
        Thread lateReader = new Thread(() -> b.samples().consume(() -> 0, batch -> batch.forEach(m -> late.add(m.sequence())),
                lateStop::get));
        lateReader.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> late.size() >= 3);
        lateStop.set(true);
        lateReader.join(5000);
        assertThat(late).containsExactly(4L, 5L, 6L);
    }

    @Test
    void intakeFailsClearlyWhileNatsIsDown() throws Exception {
        Fleet a = fleet("a", true, 10);
        nats.kill();
        await().atMost(Duration.ofSeconds(10)).until(() -> !a.connection().isConnected());
        assertThatThrownBy(() -> a.samples().publish(payloads(1), List.of("z-0")))
                .isInstanceOf(FleetUnavailableException.class)
                .hasMessageContaining("expected a connection to NATS")
                .satisfies(e -> assertThat(((FleetUnavailableException) e).headers()).containsKey("Retry-After"));
        nats.start();
        await().atMost(Duration.ofSeconds(10)).until(a.connection()::isConnected);
        assertThat(a.samples().publish(payloads(1), List.of("z-0")).get(0).sequence()).isEqualTo(1);
    }

    @Test
    void anotherReplicaTakesTheLeaseOverWithinTheBoundAndServeOnlyNeverHoldsIt() throws Exception {
        Fleet a = fleet("a", true, 10);
        Fleet b = fleet("b", true, 10);
        Fleet serveOnly = fleet("c", false, 10);
        a.lease().start();
        await().atMost(Duration.ofSeconds(5)).until(a.lease()::isHeld);
        b.lease().start();
        serveOnly.lease().start();
        await().atMost(Duration.ofSeconds(5)).until(() -> b.lease().holder().equals(Optional.of("a")));
        assertThat(b.lease().isHeld()).isFalse();

        // a dies without giving the lease up: its key expires after the TTL (1 s).
        a.connection().nats().close();
        long died = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).until(() -> b.lease().isHeld() || serveOnly.lease().isHeld());
        double seconds = (System.nanoTime() - died) / 1e9;
        assertThat(b.lease().isHeld()).isTrue();
        assertThat(serveOnly.lease().isHeld()).isFalse();
        assertThat(seconds).as("takeover within 1.5 x TTL plus a refresh period").isLessThan(2.0);
    }

    @Test
    void thePointerMovesByCompareAndSetAndFollowersCatchUpAfterARestart() throws Exception {
        Fleet a = fleet("a", true, 10);
        Fleet b = fleet("b", true, 10);
        Optional<ActivePointer.Pointer> first = a.pointer().compareAndSet(Optional.empty(), 1, 0);
        assertThat(first).isPresent();
        assertThat(b.pointer().compareAndSet(Optional.empty(), 7, 0)).as("only one creator wins").isEmpty();

        List<Integer> followed = new CopyOnWriteArrayList<>();
        b.pointer().follow(p -> followed.add(p.version()));
        await().atMost(Duration.ofSeconds(5)).until(() -> followed.contains(1));

        Optional<ActivePointer.Pointer> second = a.pointer().compareAndSet(first, 2, 10);
        assertThat(second).isPresent();
        assertThat(a.pointer().compareAndSet(first, 3, 10)).as("a stale revision loses").isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> followed.contains(2));

        nats.kill();
        nats.start();
        await().atMost(Duration.ofSeconds(10)).until(a.connection()::isConnected);
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> a.pointer().compareAndSet(a.pointer().read(), 4, 20).isPresent());
        await().atMost(Duration.ofSeconds(5)).until(() -> followed.contains(4));
        assertThat(b.pointer().read()).map(ActivePointer.Pointer::consumedThrough).contains(20L);
    }

    @Test
    void versionFilesRoundTripThroughTheBucket() throws Exception {
        Fleet a = fleet("a", true, 10);
        Path version = Files.createDirectories(dir.resolve("v3"));
        byte[] big = new byte[3_000_000];
        new java.util.Random(3).nextBytes(big);
        Files.write(version.resolve("checkpoint"), big);
        Files.writeString(version.resolve("manifest.json"), "{\"version\":3}");
        assertThat(a.versions().holds(3, "manifest.json")).isFalse();
        assertThat(a.versions().highest("manifest.json")).isEmpty();

        a.versions().upload(3, version, List.of("checkpoint"), "manifest.json");

        Fleet b = fleet("b", true, 10);
        assertThat(b.versions().holds(3, "manifest.json")).isTrue();
        assertThat(b.versions().highest("manifest.json")).hasValue(3);
        Path copy = dir.resolve("copy");
        b.versions().download(3, List.of("checkpoint", "manifest.json"), copy);
        assertThat(Files.readAllBytes(copy.resolve("checkpoint"))).isEqualTo(big);
        assertThat(Files.readString(copy.resolve("manifest.json"))).isEqualTo("{\"version\":3}");
    }
}
