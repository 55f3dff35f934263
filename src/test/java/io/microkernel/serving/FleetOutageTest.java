package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microkernel.fleet.ActivePointer;
import io.microkernel.fleet.Fleet;
import io.microkernel.fleet.FleetSettings;
import io.microkernel.fleet.FleetUnavailableException;
import io.microkernel.fleet.TrainerLease;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.store.ModelStore;
import io.microkernel.testing.FleetFixture;
import io.microkernel.testing.StoreFixtures;
import io.microkernel.testing.TensorValues;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet mode while NATS is away, against a real nats-server the test kills and restarts: a replica
 * starts and serves the version in its local store with NATS down, an activation meanwhile fails
 * clearly (503 with Retry-After) and changes nothing, and once NATS is back the replica makes its
 * version the fleet's; the trainer lease's holder steps down while NATS is away and holds it again
 * after.
 */
class FleetOutageTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

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
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a connect that waits for NATS would hang here, not fail
    void aReplicaStartsAndServesItsCachedVersionWhileNatsIsDownAndJoinsTheFleetWhenItReturns() throws Exception {
        fleets = FleetFixture.start(temp.resolve("nats"));
        fleets.nats().kill();
        Fleet fleet = fleets.keep(Fleet.open(new FleetSettings(fleets.nats().url(), "default", "r1", true,
                Duration.ofSeconds(1), Duration.ofSeconds(1), 100, Duration.ofMinutes(2), "")));
        assertThat(fleet.connection().isConnected()).isFalse();

        // The local store (the cache) holds version 1, whose every answer is class 2.
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store"), 3, StoreFixtures.classifierFavouring(2));
        served = new ServedModel("default", store, new ModelLoader(() -> OrtRuntime.bundled().environment(),
                SessionSettings.cpu(1, 1)), new ServingMetrics(new SimpleMeterRegistry(), "default"));
        served.start();
        versions = new FleetVersions(fleet, served);
        versions.start();
        Prediction prediction = classify();
        assertThat(prediction.version()).isEqualTo(1);
        assertThat(prediction.classifications().get(0).index()).isEqualTo(2);

        // An activation needs the fleet: refused with a retry hint, and nothing changed.
        assertThatThrownBy(() -> versions.activate(1)).isInstanceOf(FleetUnavailableException.class)
                .satisfies(e -> assertThat(((FleetUnavailableException) e).headers()).containsKey("Retry-After"));
        assertThat(served.activeVersion()).hasValue(1);

        // NATS returns: this replica's version becomes the fleet's first, uploaded to the bucket.
        fleets.nats().start();
        await().atMost(PATIENCE).ignoreExceptions().until(() -> fleet.pointer().read()
                .map(ActivePointer.Pointer::version).equals(Optional.of(1)));
        assertThat(fleet.versions().holds(1, ModelStore.MANIFEST)).isTrue();
        assertThat(classify().version()).isEqualTo(1);
    }

    @Test
    void theLeaseHolderStepsDownWhileNatsIsAwayAndHoldsTheLeaseAgainAfter() throws Exception {
        fleets = FleetFixture.start(temp.resolve("nats"));
        Fleet fleet = fleets.fleet("default", "r1", true, 100);
        List<String> events = new CopyOnWriteArrayList<>();
        fleet.lease().addListener(new TrainerLease.Listener() {
            @Override
            public void acquired() {
                events.add("acquired");
            }

            @Override
            public void lost(String why) {
                events.add("lost: " + why);
            }
        });
        fleet.lease().start();
        await().atMost(PATIENCE).until(fleet.lease()::isHeld);

        fleets.nats().kill();
        await().atMost(PATIENCE).until(() -> !fleet.lease().isHeld());
        assertThat(events).hasSize(2).first().isEqualTo("acquired");
        assertThat(events.get(1)).startsWith("lost: ");

        fleets.nats().start();
        await().atMost(PATIENCE).until(fleet.lease()::isHeld);
        assertThat(events).hasSize(3).last().isEqualTo("acquired");
    }

    private Prediction classify() {
        RequestTranslator translator = new RequestTranslator(16);
        return served.predict(OptionalInt.empty(), signature -> translator.fromTensors(signature.inputs(),
                List.of(new TensorInput("input", List.of(1L, 4L), "FP32", TensorValues.data("[0.5,-1,2,0]")))));
    }
}
