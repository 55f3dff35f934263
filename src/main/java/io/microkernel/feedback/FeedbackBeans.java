package io.microkernel.feedback;

import io.micrometer.core.instrument.MeterRegistry;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.store.ModelStore;
import io.microkernel.training.FeedbackLedger;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.Optional;

/** Builds the prediction log and its feedback side from {@code microkernel.feedback.*}. */
@ApplicationScoped
public class FeedbackBeans {

    @Produces
    @Singleton
    Feedback feedback(MicrokernelConfig config, ModelStore store, MeterRegistry registry, FeedbackLedger ledger) {
        MicrokernelConfig.Feedback settings = config.feedback();
        Optional<PredictionLog> log = Optional.empty();
        if (settings.enabled()) {
            log = Optional.of(PredictionLog.open(store.root().resolve("predictions"), new PredictionLog.Settings(
                    settings.retention(), settings.samplingRate(), settings.maxEntries()), Clock.systemUTC()));
        }
        return new Feedback(log, new FeedbackMetrics(registry, config.model().name()), ledger);
    }

    void close(@Disposes Feedback feedback) {
        feedback.close();
    }
}
