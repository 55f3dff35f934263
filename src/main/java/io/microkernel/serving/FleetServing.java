package io.microkernel.serving;

import io.microkernel.config.ConfigurationCheck;
import io.microkernel.fleet.Fleet;
import io.microkernel.fleet.FleetMode;
import io.microkernel.fleet.FleetUnavailableException;
import io.microkernel.fleet.ReplicaRegistry;
import io.microkernel.fleet.TrainerLease;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;
import io.quarkus.runtime.StartupEvent;
import java.util.List;
import java.util.Optional;

/**
 * Serving's side of fleet mode: after the local store is served (ModelStartup), starts following
 * the fleet's active version; activations then go through the fleet. Does nothing in single-node mode.
 */
@ApplicationScoped
public class FleetServing {

    @Inject
    ConfigurationCheck configuration;

    @Inject
    Instance<FleetMode> mode;

    @Inject
    Instance<ServedModel> served;

    /** Set once at start-up in fleet mode; package-private for tests. */
    volatile FleetVersions versions;

    void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 50) StartupEvent event) {
        if (!configuration.passed() || !mode.get().enabled()) {
            return;
        }
        Fleet fleet = mode.get().fleet().orElseThrow();
        ServedModel model = served.get();
        FleetVersions started = new FleetVersions(fleet, model);
        versions = started;
        started.start();
        fleet.lease().addListener(new TrainerLease.Listener() {
            @Override
            public void acquired() {
                fleet.replicas().beat();
            }

            @Override
            public void lost(String why) {
                fleet.replicas().beat();
            }
        });
        fleet.replicas().start(model::activeVersion, model::isReady, fleet.lease()::isHeld);
    }

    /** The fleet's versions; empty in single-node mode or before start-up. */
    public Optional<FleetVersions> versions() {
        return Optional.ofNullable(versions);
    }

    /**
     * Why this replica serves another version than the fleet's active one ({@link FleetVersions#fallback});
     * empty while it serves the fleet's version, in single-node mode and before start-up.
     */
    public Optional<String> fallback() {
        FleetVersions started = versions;
        return started == null ? Optional.empty() : started.fallback();
    }

    /**
     * Every replica of the fleet with the version it serves, from their heartbeats; empty in
     * single-node mode or before start-up.
     */
    public Optional<Replicas> replicas() {
        if (versions == null) {
            return Optional.empty();
        }
        ReplicaRegistry registry = mode.get().fleet().orElseThrow().replicas();
        try {
            return Optional.of(new Replicas(registry.self(), registry.members(), null));
        } catch (FleetUnavailableException e) {
            return Optional.of(new Replicas(registry.self(), List.of(registry.local()), e.getMessage()));
        }
    }

    /**
     * The fleet's replicas as their heartbeats say.
     *
     * @param self    this replica's id
     * @param members every replica whose heartbeat has not expired, by id; only this one when NATS
     *                cannot be reached
     * @param problem why the list holds only this replica; null when the registry answered
     */
    public record Replicas(String self, List<ReplicaRegistry.Member> members, String problem) {
    }

    @Produces
    @Singleton
    VersionActivation activation(ServedModel model) {
        return version -> {
            FleetVersions fleet = versions;
            return fleet == null ? model.swap(version) : fleet.activate(version);
        };
    }

    @PreDestroy
    void stop() {
        FleetVersions started = versions;
        if (started != null) {
            started.close();
        }
    }
}
