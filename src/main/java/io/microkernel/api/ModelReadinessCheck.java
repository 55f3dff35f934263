package io.microkernel.api;

import io.microkernel.serving.FleetServing;
import io.microkernel.serving.ServedModel;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while a model version is served, so traffic goes elsewhere during start-up and shutdown;
 * while start-up cannot serve (it retries), {@code reason} says why. In fleet mode, {@code fleet}
 * says why this replica serves another version than the fleet's active one, when it does.
 */
@Readiness
@ApplicationScoped
public class ModelReadinessCheck implements HealthCheck {

    @Inject
    ServedModel served;

    @Inject
    FleetServing fleet;

    @Override
    public HealthCheckResponse call() {
        var builder = HealthCheckResponse.named("model " + served.name()).status(served.isReady());
        served.activeVersion().ifPresent(v -> builder.withData("version", v));
        served.notReadyReason().ifPresent(reason -> builder.withData("reason", reason));
        fleet.fallback().ifPresent(reason -> builder.withData("fleet", reason));
        return builder.build();
    }
}
