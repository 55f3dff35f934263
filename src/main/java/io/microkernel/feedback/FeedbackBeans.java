package io.microkernel.feedback;

import io.micrometer.core.instrument.MeterRegistry;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.fleet.FleetMode;
import io.microkernel.fleet.FleetPredictions;
import io.microkernel.store.ModelStore;
import io.microkernel.training.FeedbackLedger;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.Optional;

/**
 * Builds the prediction log and its feedback side from {@code microkernel.feedback.*}; in fleet mode
 * the log also shares what it logs through {@link FleetPredictions}.
 */
@ApplicationScoped
public class FeedbackBeans {

    /** The fleet's prediction stream holds at most this many bytes (besides max-entries and the retention). */
    static final long FLEET_MAX_BYTES = 1L << 30;

    @Produces
    @Singleton
    Feedback feedback(MicrokernelConfig config, ModelStore store, MeterRegistry registry, FeedbackLedger ledger,
            FleetMode fleetMode) {
        MicrokernelConfig.Feedback settings = config.feedback();
        FeedbackMetrics metrics = new FeedbackMetrics(registry, config.model().name());
        Optional<PredictionLog> log = Optional.empty();
        Optional<FleetPredictions> fleet = Optional.empty();
        if (settings.enabled()) {
            PredictionLog.Settings logSettings = new PredictionLog.Settings(settings.retention(), settings.samplingRate(),
                    settings.maxEntries());
            fleet = fleetMode.fleet().map(f -> new FleetPredictions(f.connection(), settings.retention(),
                    settings.maxEntries(), FLEET_MAX_BYTES));
            log = Optional.of(PredictionLog.open(store.root().resolve("predictions"), logSettings, Clock.systemUTC(),
                    fleet.map(FeedbackBeans::shared)));
            metrics.watch(log.get());
            fleet.ifPresent(metrics::watch);
        }
        return new Feedback(log, metrics, ledger, fleet);
    }

    /** The log's view of the fleet's prediction stream. */
    static PredictionLog.Shared shared(FleetPredictions fleet) {
        return new PredictionLog.Shared() {
            @Override
            public void put(String id, byte[] record) {
                fleet.share(id, record);
            }

            @Override
            public Optional<byte[]> find(String id) {
                return fleet.find(id);
            }
        };
    }

    void close(@Disposes Feedback feedback) {
        feedback.close();
    }
}
