package io.microkernel.serving;

import io.microkernel.config.ConfigurationCheck;
import io.microkernel.fleet.FleetMode;
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

    private volatile FleetVersions versions;

    void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 50) StartupEvent event) {
        if (!configuration.passed() || !mode.get().enabled()) {
            return;
        }
        FleetVersions started = new FleetVersions(mode.get().fleet().orElseThrow(), served.get());
        versions = started;
        started.start();
    }

    /** The fleet's versions; empty in single-node mode or before start-up. */
    public Optional<FleetVersions> versions() {
        return Optional.ofNullable(versions);
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
