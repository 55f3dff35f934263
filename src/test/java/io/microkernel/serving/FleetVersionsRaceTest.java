package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microkernel.api.ModelReadinessCheck;
import io.microkernel.fleet.Fleet;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.store.Lineage;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import io.microkernel.testing.FleetFixture;
import io.microkernel.testing.StoreFixtures;
import io.microkernel.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet's version retention racing an activation, against a real nats-server, with the racy
 * order played step by step: a rollback that lands between a prune's last look at the pointer and
 * its delete leaves the pointer naming a version the bucket lacks. A replica without a copy then
 * falls back to the newest version it can load and says why, activating the gone version answers
 * 404, and the version comes back from a replica that holds it (or the trainer promotes on from
 * the fallback), after which every replica serves what the pointer names.
 */
class FleetVersionsRaceTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final List<String> FILES = List.of(ModelStore.CHECKPOINT, ModelStore.INFERENCE_MODEL);
    private static final List<String> ALL_FILES = List.of(ModelStore.CHECKPOINT, ModelStore.INFERENCE_MODEL,
            ModelStore.MANIFEST);
    /** Longer than any test: the periodic repair never runs by itself, the test calls it. */
    private static final long NO_PERIODIC_REPAIR = Duration.ofHours(1).toMillis();

    @TempDir
    Path temp;

    private FleetFixture fleets;
    /** The replica that published versions 1 to 5 and holds them all. */
    private FleetVersions trainer;
    private ServedModel trainerServed;
    private Fleet pruner;

    @BeforeEach
    void fleetWithFiveVersions() throws Exception {
        fleets = FleetFixture.start(temp.resolve("nats"));
        Fleet trainerFleet = fleets.fleet("default", "trainer", true, 100);
        pruner = fleets.fleet("default", "pruner", true, 100);
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("trainer"), 10, StoreFixtures.classifierFavouring(0));
        trainerServed = served(store);
        trainer = fleets.keep(new FleetVersions(trainerFleet, trainerServed, NO_PERIODIC_REPAIR));
        trainer.start();
        await().atMost(PATIENCE).until(() -> pointerOf(pruner).equals(OptionalInt.of(1)));
        for (int number = 2; number <= 5; number++) {
            ModelVersion published = StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(number % 3),
                    number - 1, "round-" + number);
            trainerFleet.versions().upload(published.version(), published.dir(), FILES, ModelStore.MANIFEST);
        }
        assertThat(pruner.pointer().compareAndSet(pruner.pointer().read(), 5, 0)).isPresent();
        await().atMost(PATIENCE).until(() -> trainerServed.activeVersion().equals(OptionalInt.of(5)));
    }

    @AfterEach
    void stop() throws Exception {
        if (fleets != null) {
            fleets.close();
        }
    }

    @Test
    void aRollbackInsideAPrunesLastLookIsRepairedAndAReplicaWithoutTheVersionFallsBackMeanwhile() throws Exception {
        rollBackToTwoBetweenThePrunesLookAndItsDelete();
        assertThat(pruner.versions().missing(2, ALL_FILES)).as("the delete that was in flight took the manifest")
                .containsExactly(ModelStore.MANIFEST);
        assertThat(pruner.versions().versions(ModelStore.MANIFEST)).containsExactly(4, 5);

        // A replica that holds no copy of 2 serves 5, the newest version it can load, and says why.
        ServedModel follower = served(StoreFixtures.bootstrapped(temp.resolve("follower"), 10,
                StoreFixtures.classifierFavouring(1)));
        FleetVersions followerVersions = startReplica("follower", follower);
        await().atMost(PATIENCE).until(() -> follower.activeVersion().equals(OptionalInt.of(5)));
        await().atMost(PATIENCE).until(() -> followerVersions.fallback().isPresent());
        assertThat(followerVersions.fallback().orElseThrow()).contains("the fleet's active version 2 cannot be loaded")
                .contains("without [manifest.json]").contains("serving version 5, the newest this replica can load");
        assertThat(pointerOf(pruner)).as("a replica that falls back leaves the pointer alone").hasValue(2);
        FleetServing serving = new FleetServing();
        serving.versions = followerVersions;
        HealthCheckResponse health = readiness(follower, serving);
        assertThat(health.getStatus()).as("it serves, so it stays ready").isEqualTo(HealthCheckResponse.Status.UP);
        assertThat(health.getData()).hasValueSatisfying(data -> assertThat(data)
                .containsEntry("fleet", followerVersions.fallback().orElseThrow()).containsEntry("version", 5L));

        // Activating a version that is gone answers 404 and does not move the pointer.
        assertThatThrownBy(() -> followerVersions.activate(3)).isInstanceOf(ProblemException.class)
                .satisfies(e -> assertThat(((ProblemException) e).type()).isEqualTo(ProblemType.UNKNOWN_VERSION))
                .hasMessageContaining("version 3 not found");
        assertThatThrownBy(() -> followerVersions.activate(2)).isInstanceOf(ProblemException.class)
                .satisfies(e -> assertThat(((ProblemException) e).type()).isEqualTo(ProblemType.UNKNOWN_VERSION))
                .hasMessageContaining("version 2 not found whole");
        assertThat(pointerOf(pruner)).hasValue(2);

        // The trainer follows the pointer from its own copy of 2 and puts back what the bucket lacks.
        await().atMost(PATIENCE).until(() -> trainerServed.activeVersion().equals(OptionalInt.of(2)));
        trainer.repairTarget();
        assertThat(pruner.versions().missing(2, ALL_FILES)).isEmpty();

        // The replica that fell back retries, fetches 2 and serves it.
        await().atMost(PATIENCE).until(() -> follower.activeVersion().equals(OptionalInt.of(2)));
        assertThat(followerVersions.fallback()).isEmpty();
    }

    @Test
    void aTrainerThatFellBackPromotesOnAndTheFleetConvergesAgain() throws Exception {
        rollBackToTwoBetweenThePrunesLookAndItsDelete();
        ServedModel second = served(StoreFixtures.bootstrapped(temp.resolve("second"), 10,
                StoreFixtures.classifierFavouring(1)));
        FleetVersions secondVersions = startReplica("second", second);
        await().atMost(PATIENCE).until(() -> secondVersions.fallback().isPresent());
        assertThat(second.activeVersion()).hasValue(5);

        // A round compared with 4 is stale; one compared with 5, the version it fell back to, promotes.
        assertThat(secondVersions.promoteOver(4, candidate(), Lineage.fromRound(4, "stale", 40, Map.of()), 0)).isEmpty();
        Optional<ModelVersion> promoted = secondVersions.promoteOver(5, candidate(),
                Lineage.fromRound(5, "on-from-fallback", 40, Map.of()), 0);
        assertThat(promoted).map(ModelVersion::version).contains(6);
        assertThat(pointerOf(pruner)).hasValue(6);
        assertThat(secondVersions.fallback()).isEmpty();
        await().atMost(PATIENCE).until(() -> trainerServed.activeVersion().equals(OptionalInt.of(6)));
    }

    /**
     * A prune with retain 2 chooses 4 and 5 from the pointer at 5. Right before its delete of version
     * 2 it looks at the pointer (5), then an operator's rollback moves the pointer to 2 (and its
     * check of the bucket passes: nothing is deleted yet), then the delete lands. The prune's next
     * look sees 2 and spares the rest of it.
     */
    private void rollBackToTwoBetweenThePrunesLookAndItsDelete() {
        // Look 1 chooses what to keep; looks 2 to 4 precede the deletes of version 1's three
        // objects; look 5 precedes the delete of version 2's manifest.
        AtomicInteger looks = new AtomicInteger();
        Supplier<OptionalInt> target = () -> {
            OptionalInt seen = pointerOf(pruner);
            if (looks.incrementAndGet() == 5) {
                assertThat(pruner.versions().missing(2, ALL_FILES)).isEmpty();
                assertThat(pruner.pointer().compareAndSet(pruner.pointer().read(), 2, 0)).isPresent();
            }
            return seen;
        };
        assertThat(pruner.versions().prune(2, target, ModelStore.MANIFEST)).containsExactly(1, 3);
        assertThat(pointerOf(pruner)).hasValue(2);
    }

    /** The readiness check as Quarkus wires it (its fields are injected, so set them here). */
    private static HealthCheckResponse readiness(ServedModel model, FleetServing serving) throws Exception {
        ModelReadinessCheck check = new ModelReadinessCheck();
        for (var field : Map.of("served", model, "fleet", serving).entrySet()) {
            var declared = ModelReadinessCheck.class.getDeclaredField(field.getKey());
            declared.setAccessible(true);
            declared.set(check, field.getValue());
        }
        return check.call();
    }

    private FleetVersions startReplica(String id, ServedModel model) {
        FleetVersions versions = fleets.keep(new FleetVersions(fleets.fleet("default", id, true, 100), model,
                NO_PERIODIC_REPAIR));
        versions.start();
        return versions;
    }

    private ServedModel served(ModelStore store) {
        ServedModel model = fleets.keep(new ServedModel("default", store, new ModelLoader(() -> OrtRuntime.bundled().environment(),
                SessionSettings.cpu(1, 1)), new ServingMetrics(new SimpleMeterRegistry(), "default")));
        model.start();
        return model;
    }

    private Path candidate() throws Exception {
        return TestModels.candidate(Files.createTempDirectory(temp, "candidate"), StoreFixtures.classifierFavouring(2));
    }

    private static OptionalInt pointerOf(Fleet fleet) {
        return fleet.pointer().read().map(p -> OptionalInt.of(p.version())).orElse(OptionalInt.empty());
    }
}
