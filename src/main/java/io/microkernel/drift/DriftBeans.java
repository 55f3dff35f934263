package io.microkernel.drift;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.problem.ConfigurationException;
import io.microkernel.serving.ServedModel;
import io.microkernel.training.ReferenceSets;
import io.microkernel.training.RoundScheduler;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/**
 * Builds the drift watch from {@code microkernel.drift.*}, exports it as meters
 * ({@code microkernel_drift_psi}, {@code microkernel_drift_served_rows}) and checks the trigger every
 * {@code check-interval}.
 */
@ApplicationScoped
public class DriftBeans {

    private static final Logger LOG = Logger.getLogger(DriftBeans.class);

    @Inject
    Instance<Drift> drift;

    @Inject
    MicrokernelConfig config;

    @Produces
    @Singleton
    Drift drift(MicrokernelConfig config, ServedModel served, RoundScheduler scheduler, ReferenceSets references,
            MeterRegistry registry) {
        MicrokernelConfig.Drift settings = config.drift();
        if (!settings.enabled()) {
            return Drift.off();
        }
        if (settings.window() < 1) {
            throw new ConfigurationException("microkernel.drift.window", "at least 1", settings.window());
        }
        if (!(settings.threshold() > 0)) {
            throw new ConfigurationException("microkernel.drift.threshold", "a number above 0", settings.threshold());
        }
        Drift drift = Drift.on(new DriftWatch.Settings(settings.window(), Math.max(1, settings.minRows()),
                settings.threshold()), new DriftBaselines(served, scheduler, references), scheduler, settings.trigger(),
                Math.max(1, settings.minNewSamples()));
        String model = config.model().name();
        Gauge.builder("microkernel.drift.psi", drift, d -> d.report().map(r -> r.psi() == null ? Double.NaN : r.psi())
                        .orElse(Double.NaN))
                .description("Largest population stability index of served traffic against the active version's "
                        + "training samples (NaN until measurable)").tag("model", model).register(registry);
        Gauge.builder("microkernel.drift.served.rows", drift, d -> d.report().map(DriftReport::servedRows).orElse(0L))
                .description("Served rows in the drift window").tag("model", model).register(registry);
        return drift;
    }

    void close(@Disposes Drift drift) {
        drift.close();
    }

    @Scheduled(identity = "drift-trigger", every = "${microkernel.drift.check-interval:30s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP, delayed = "${microkernel.drift.check-interval:30s}")
    void checkTrigger() {
        if (!config.drift().enabled() || !config.drift().trigger()) {
            return;
        }
        try {
            drift.get().check().ifPresent(r -> LOG.debugf("drift check started round %d", r.id()));
        } catch (RuntimeException e) {
            LOG.debugf("drift check: %s", e.getMessage());
        }
    }
}
