package io.microkernel.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.microkernel.testing.FleetFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fleet's parts against a real nats-server that the test starts, kills and restarts. */
class FleetPartsTest {

    @TempDir
    Path dir;

    private FleetFixture fleets;

    @BeforeEach
    void startNats() throws Exception {
        fleets = FleetFixture.start(dir);
    }

    @AfterEach
    void stopAll() throws Exception {
        if (fleets != null) {
            fleets.close();
        }
    }

    private Fleet fleet(String replica, boolean eligible, int maxSamples) {
        return fleets.fleet("m.1", replica, eligible, maxSamples);
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
        fleets.nats().kill();
        await().atMost(Duration.ofSeconds(10)).until(() -> !a.connection().isConnected());
        assertThatThrownBy(() -> a.samples().publish(payloads(1), List.of("z-0")))
                .isInstanceOf(FleetUnavailableException.class)
                .hasMessageContaining("expected a connection to NATS")
                .satisfies(e -> assertThat(((FleetUnavailableException) e).headers()).containsKey("Retry-After"));
        fleets.nats().start();
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

        // a dies without giving the lease up: its key expires a TTL (1 s) after its last refresh, at most
        // a refresh period (TTL / 4) before the death, and only then may another replica take it. The
        // bound (about 1.3 x TTL on a quiet machine) is awaited with room for a loaded one; a take-over
        // sooner than three quarters of the TTL would mean the lease did not hold.
        a.connection().nats().close();
        long died = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).until(() -> b.lease().isHeld() || serveOnly.lease().isHeld());
        double seconds = (System.nanoTime() - died) / 1e9;
        assertThat(b.lease().isHeld()).isTrue();
        assertThat(serveOnly.lease().isHeld()).isFalse();
        assertThat(seconds).as("no take-over while the dead holder's key lives").isGreaterThanOrEqualTo(0.7);
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

        fleets.nats().kill();
        fleets.nats().start();
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

    @Test
    void aCancelIsAnsweredByTheTrainerAloneAndFailsClearlyWithoutOne() throws Exception {
        Fleet trainer = fleet("a", true, 10);
        Fleet other = fleet("b", true, 10);
        assertThatThrownBy(() -> other.rounds().requestCancel("{\"id\":1}".getBytes(StandardCharsets.UTF_8),
                Duration.ofMillis(500))).isInstanceOf(FleetUnavailableException.class)
                .hasMessageContaining("no trainer answered");

        List<String> cancels = new CopyOnWriteArrayList<>();
        trainer.rounds().answer(body -> "started".getBytes(StandardCharsets.UTF_8), body -> {
            cancels.add(new String(body, StandardCharsets.UTF_8));
            return "cancelled".getBytes(StandardCharsets.UTF_8);
        });
        byte[] reply = other.rounds().requestCancel("{\"id\":7}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5));
        assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo("cancelled");
        assertThat(cancels).containsExactly("{\"id\":7}");
        assertThat(new String(other.rounds().request(new byte[0], Duration.ofSeconds(5)), StandardCharsets.UTF_8))
                .as("a start goes to its own handler").isEqualTo("started");

        trainer.rounds().stopAnswering();
        assertThatThrownBy(() -> other.rounds().requestCancel("{\"id\":7}".getBytes(StandardCharsets.UTF_8),
                Duration.ofMillis(500))).isInstanceOf(FleetUnavailableException.class);
        assertThat(cancels).hasSize(1);
    }

    @Test
    void theBucketKeepsTheNewestVersionsAndTheActiveOneAndDropsTheRestEverywhere() throws Exception {
        Fleet a = fleet("a", true, 10);
        Path files = Files.createDirectories(dir.resolve("files"));
        Files.writeString(files.resolve("checkpoint"), "weights");
        Files.writeString(files.resolve("manifest.json"), "{}");
        for (int version : List.of(1, 2, 3, 5, 6, 7)) {
            a.versions().upload(version, files, List.of("checkpoint"), "manifest.json");
        }
        // Orphans of uploads that died before their manifest: 4 below the newest version, 8 above it.
        for (int orphan : List.of(4, 8)) {
            a.versions().upload(orphan, files, List.of(), "checkpoint");
        }
        assertThat(a.versions().versions("manifest.json")).containsExactly(1, 2, 3, 5, 6, 7);

        // Retain 3 with version 2 active (rolled back to): 5, 6, 7 and 2 stay, as a single node keeps them.
        assertThat(a.versions().prune(3, () -> java.util.OptionalInt.of(2), "manifest.json")).containsExactly(1, 3);

        Fleet b = fleet("b", true, 10);
        assertThat(b.versions().versions("manifest.json")).containsExactly(2, 5, 6, 7);
        assertThat(b.versions().holds(1, "manifest.json")).isFalse();
        assertThat(b.versions().holds(2, "manifest.json")).isTrue();
        Path copy = dir.resolve("copy-2");
        b.versions().download(2, List.of("checkpoint", "manifest.json"), copy);
        assertThat(Files.readString(copy.resolve("checkpoint"))).isEqualTo("weights");
        assertThat(b.versions().prune(3, () -> java.util.OptionalInt.of(2), "manifest.json")).as("nothing more to drop").isEmpty();
        // The orphan above the newest version may be an upload under way: kept; the one below is gone.
        assertThat(b.versions().holds(8, "checkpoint")).isTrue();
        assertThat(b.versions().holds(4, "checkpoint")).isFalse();

        // Once 2 is no longer active, the next prune drops it.
        assertThat(b.versions().prune(3, () -> java.util.OptionalInt.of(7), "manifest.json")).containsExactly(2);
        assertThat(a.versions().versions("manifest.json")).containsExactly(5, 6, 7);
    }

    @Test
    void aPruneSparesTheVersionThePointerIsMovedToWhileItRuns() throws Exception {
        Fleet pruner = fleet("a", true, 10);
        Fleet operator = fleet("b", true, 10);
        Path files = Files.createDirectories(dir.resolve("files"));
        Files.writeString(files.resolve("checkpoint"), "weights");
        Files.writeString(files.resolve("manifest.json"), "{}");
        for (int version = 1; version <= 5; version++) {
            pruner.versions().upload(version, files, List.of("checkpoint"), "manifest.json");
        }
        Optional<ActivePointer.Pointer> atFive = operator.pointer().compareAndSet(Optional.empty(), 5, 0);
        assertThat(atFive).isPresent();

        // The pruner chooses what to keep from the pointer at 5 (retain 2: 4 and 5); before its first
        // delete an operator rolls the fleet back to 2, which the choice had doomed.
        AtomicInteger reads = new AtomicInteger();
        Supplier<OptionalInt> target = () -> {
            if (reads.incrementAndGet() == 2) {
                assertThat(operator.pointer().compareAndSet(atFive, 2, 0)).isPresent();
            }
            return targetOf(pruner);
        };
        assertThat(pruner.versions().prune(2, target, "manifest.json")).containsExactly(1, 3);
        assertThat(operator.versions().versions("manifest.json")).containsExactly(2, 4, 5);
        assertThat(operator.versions().missing(2, List.of("checkpoint", "manifest.json"))).isEmpty();

        // Retain 1 with 2 active dooms 4; the pointer moves to 4 after its manifest went: the prune
        // deletes nothing more of 4, and what it took can be put back.
        Optional<ActivePointer.Pointer> atTwo = operator.pointer().read();
        AtomicInteger later = new AtomicInteger();
        Supplier<OptionalInt> movedMidVersion = () -> {
            if (later.incrementAndGet() == 3) {
                assertThat(operator.pointer().compareAndSet(atTwo, 4, 0)).isPresent();
            }
            return targetOf(pruner);
        };
        assertThat(pruner.versions().prune(1, movedMidVersion, "manifest.json")).as("4 was not deleted whole").isEmpty();
        assertThat(operator.versions().missing(4, List.of("checkpoint", "manifest.json"))).containsExactly("manifest.json");
        assertThat(operator.versions().restore(4, files, List.of("checkpoint"), "manifest.json"))
                .containsExactly("manifest.json");
        assertThat(operator.versions().versions("manifest.json")).containsExactly(2, 4, 5);
        assertThat(operator.versions().restore(4, files, List.of("checkpoint"), "manifest.json")).isEmpty();
    }

    private static OptionalInt targetOf(Fleet fleet) {
        return fleet.pointer().read().map(p -> OptionalInt.of(p.version())).orElse(OptionalInt.empty());
    }

    @Test
    void theRetentionRuleIsTheStoresAndCachesDropWhatTheFleetDropped() {
        java.util.OptionalInt none = java.util.OptionalInt.empty();
        assertThat(VersionBucket.retained(List.of(1, 2, 3, 4, 5, 6), 3, java.util.OptionalInt.of(1)))
                .containsExactlyInAnyOrder(1, 4, 5, 6);
        assertThat(VersionBucket.retained(List.of(1, 2, 3, 4, 5, 6), 3, java.util.OptionalInt.of(5)))
                .containsExactlyInAnyOrder(4, 5, 6);
        assertThat(VersionBucket.retained(List.of(1, 2), 3, none)).containsExactlyInAnyOrder(1, 2);

        // The fleet keeps 6, 7, 8 and the active 2; a cache that saw 1, 2, 3, 7, 8 drops 1 and 3.
        assertThat(VersionBucket.droppedFromCache(List.of(1, 2, 3, 7, 8), java.util.OptionalInt.of(2), List.of(2, 6, 7, 8),
                3, java.util.OptionalInt.of(2))).containsExactly(1, 3);
        // A version this replica serves stays until it follows the pointer; one newer than the fleet's stays too.
        assertThat(VersionBucket.droppedFromCache(List.of(1, 3, 8, 9), java.util.OptionalInt.of(3), List.of(6, 7, 8),
                3, java.util.OptionalInt.of(8))).containsExactly(1);
        // While the fleet holds fewer versions than it retains, it dropped none: a cache keeps its own.
        assertThat(VersionBucket.droppedFromCache(List.of(1, 2, 3), java.util.OptionalInt.of(3), List.of(3),
                3, java.util.OptionalInt.of(3))).isEmpty();
    }

    @Test
    void replicasListEachOtherWithTheVersionTheyServeAndDropOutWhenTheyStop() throws Exception {
        Fleet a = fleet("a", true, 10);
        Fleet b = fleet("b", false, 10);
        java.util.concurrent.atomic.AtomicInteger bServes = new java.util.concurrent.atomic.AtomicInteger(1);
        a.replicas().start(() -> java.util.OptionalInt.of(3), () -> true, () -> true);
        b.replicas().start(() -> java.util.OptionalInt.of(bServes.get()), () -> true, () -> false);

        await().atMost(Duration.ofSeconds(10)).until(() -> a.replicas().members().size() == 2);
        List<ReplicaRegistry.Member> seen = b.replicas().members();
        assertThat(seen).extracting(ReplicaRegistry.Member::replica).containsExactly("a", "b");
        assertThat(seen.get(0)).satisfies(m -> {
            assertThat(m.role()).isEqualTo("trainer-eligible");
            assertThat(m.trainer()).isTrue();
            assertThat(m.version()).isEqualTo(3);
            assertThat(m.ready()).isTrue();
            assertThat(m.lastSeen()).isNotNull();
        });
        assertThat(seen.get(1).role()).isEqualTo("serve-only");
        assertThat(seen.get(1).trainer()).isFalse();
        assertThat(seen.get(1).version()).isEqualTo(1);

        // What a replica serves reaches the others with its next heartbeat.
        bServes.set(4);
        b.replicas().beat();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.replicas().members().stream()
                .anyMatch(m -> m.replica().equals("b") && m.version() == 4));

        // A clean stop leaves at once; a replica that dies drops out when its entry's max age passes.
        b.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.replicas().members().stream()
                .map(ReplicaRegistry.Member::replica).toList().equals(List.of("a")));
        Fleet dying = fleet("c", true, 10);
        dying.replicas().start(() -> java.util.OptionalInt.of(3), () -> true, () -> false);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.replicas().members().size() == 2);
        dying.connection().nats().close();
        await().atMost(Duration.ofSeconds(15)).until(() -> a.replicas().members().stream()
                .map(ReplicaRegistry.Member::replica).toList().equals(List.of("a")));
        assertThat(a.replicas().local().version()).isEqualTo(3);

        fleets.nats().kill();
        await().atMost(Duration.ofSeconds(10)).until(() -> !a.connection().isConnected());
        assertThatThrownBy(() -> a.replicas().members()).isInstanceOf(FleetUnavailableException.class);
    }

    @Test
    void aReplicaIdThatIsNoKeyTokenGetsASafeKey() {
        assertThat(ReplicaRegistry.key("pod-7f9c_x")).isEqualTo("pod-7f9c_x");
        assertThat(ReplicaRegistry.key("edge box/1")).matches("x[0-9a-f]+").isNotEqualTo(ReplicaRegistry.key("edge box/2"));
    }

    @Test
    void aBucketIsLookedUpOnceAndKept() throws Exception {
        Fleet a = fleet("a", true, 10);
        io.nats.client.api.KeyValueConfiguration config = io.nats.client.api.KeyValueConfiguration.builder()
                .name("mk-test-once").storageType(io.nats.client.api.StorageType.File).build();
        assertThat(a.connection().keyValue(config)).isSameAs(a.connection().keyValue(config));
    }
}
