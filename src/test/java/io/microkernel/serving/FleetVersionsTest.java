package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microkernel.fleet.ActivePointer;
import io.microkernel.fleet.Fleet;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import io.microkernel.testing.FleetFixture;
import io.microkernel.testing.StoreFixtures;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's retention in fleet mode, against a real nats-server: a replica's cache drops what the
 * fleet no longer keeps when it follows the pointer, and an activation applies the retention to the
 * fleet's bucket, keeping the newest versions and the active one.
 */
class FleetVersionsTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final List<String> FILES = List.of(ModelStore.CHECKPOINT, ModelStore.INFERENCE_MODEL);

    @TempDir
    Path temp;

    private FleetFixture fleets;
    private ServedModel served;
    private FleetVersions versions;

    @AfterEach
    void stop() throws Exception {
        if (versions != null) {
            versions.close();
        }
        if (served != null) {
            served.close();
        }
        if (fleets != null) {
            fleets.close();
        }
    }

    @Test
    void theCacheFollowsTheFleetsRetentionAndAnActivationPrunesTheBucket() throws Exception {
        fleets = FleetFixture.start(temp.resolve("nats"));
        Fleet fleet = fleets.fleet("default", "r1", true, 100);

        // This replica keeps 2 versions; it starts with version 1 and makes it the fleet's first.
        ModelStore mine = StoreFixtures.bootstrapped(temp.resolve("mine"), 2, StoreFixtures.classifierFavouring(0));
        served = new ServedModel("default", mine, new ModelLoader(() -> OrtRuntime.bundled().environment(),
                SessionSettings.cpu(1, 1)), new ServingMetrics(new SimpleMeterRegistry(), "default"));
        served.start();
        versions = new FleetVersions(fleet, served);
        versions.start();
        await().atMost(PATIENCE).until(() -> fleet.pointer().read().map(ActivePointer.Pointer::version).equals(
                java.util.Optional.of(1)));

        // Another replica published versions 2 to 5 to the fleet and moved the pointer to 5.
        ModelStore other = StoreFixtures.bootstrapped(temp.resolve("other"), 10, StoreFixtures.classifierFavouring(0));
        for (int number = 2; number <= 5; number++) {
            ModelVersion published = StoreFixtures.publish(other, temp, StoreFixtures.classifierFavouring(number % 3),
                    number - 1, "round-" + number);
            fleet.versions().upload(published.version(), published.dir(), FILES, ModelStore.MANIFEST);
        }
        assertThat(fleet.pointer().compareAndSet(fleet.pointer().read(), 5, 0)).isPresent();

        // Following it, this replica fetches 5. Its own retention (2) would keep 1 and 5, but the fleet
        // keeps only its 2 newest: the cache drops 1 too.
        await().atMost(PATIENCE).until(() -> served.activeVersion().equals(OptionalInt.of(5)));
        await().atMost(PATIENCE).until(() -> numbers(mine).equals(List.of(5)));
        assertThat(fleet.versions().versions(ModelStore.MANIFEST)).as("a follower deletes nothing in the bucket")
                .containsExactly(1, 2, 3, 4, 5);

        // Rolling back to 4 here moves the pointer and applies the retention to the bucket: 4 and 5 stay.
        assertThat(versions.activate(4).version()).isEqualTo(4);
        await().atMost(PATIENCE).until(() -> fleet.versions().versions(ModelStore.MANIFEST).equals(List.of(4, 5)));
        assertThat(served.activeVersion()).hasValue(4);
        assertThat(numbers(mine)).containsExactly(4, 5);
        assertThat(mine.discardVersion(4)).as("the active version is never discarded").isFalse();
        assertThat(fleet.pointer().read()).map(ActivePointer.Pointer::version).contains(4);
    }

    private static List<Integer> numbers(ModelStore store) {
        return store.versions().stream().map(ModelVersion::version).toList();
    }
}
