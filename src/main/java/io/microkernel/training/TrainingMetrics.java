package io.microkernel.training;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Training meters. Prometheus names: {@code microkernel_training_rounds_total{outcome}},
 * {@code microkernel_training_round_duration_seconds{outcome}},
 * {@code microkernel_training_last_train_loss}, {@code microkernel_training_last_holdout_loss},
 * {@code microkernel_training_last_holdout_accuracy} (the last candidate scored, NaN before any),
 * {@code microkernel_training_round_yields_total} and {@code microkernel_training_round_yielded_seconds_total}
 * (how often and how long rounds waited for serving, {@link ServingYield}),
 * {@code microkernel_training_samples_buffered}, {@code microkernel_training_samples_accepted_total}
 * and {@code microkernel_training_samples_rejected_total{reason}}.
 *
 * <p>Thread-safe.
 */
public final class TrainingMetrics {

    private final MeterRegistry registry;
    private final String model;
    private final AtomicReference<Double> lastTrainLoss = new AtomicReference<>(Double.NaN);
    private final AtomicReference<Double> lastHoldoutLoss = new AtomicReference<>(Double.NaN);
    private final AtomicReference<Double> lastHoldoutAccuracy = new AtomicReference<>(Double.NaN);
    private final Counter samplesAccepted;
    /** Held here because a gauge holds its state object weakly: a lambda nobody else keeps would read NaN. */
    private final Supplier<Number> bufferedSamples;

    public TrainingMetrics(MeterRegistry registry, String model, Supplier<Number> bufferedSamples) {
        this.registry = registry;
        this.model = model;
        Gauge.builder("microkernel.training.last.train.loss", lastTrainLoss, AtomicReference::get)
                .description("Mean training loss of the last epoch of the last round").tag("model", model)
                .register(registry);
        Gauge.builder("microkernel.training.last.holdout.loss", lastHoldoutLoss, AtomicReference::get)
                .description("Holdout loss of the last candidate scored").tag("model", model).register(registry);
        Gauge.builder("microkernel.training.last.holdout.accuracy", lastHoldoutAccuracy, AtomicReference::get)
                .description("Holdout accuracy of the last candidate scored (NaN for regression)").tag("model", model)
                .register(registry);
        this.bufferedSamples = bufferedSamples;
        Gauge.builder("microkernel.training.samples.buffered", bufferedSamples, s -> s.get().doubleValue())
                .description("Labelled samples in the buffer").tag("model", model).strongReference(true)
                .register(registry);
        samplesAccepted = Counter.builder("microkernel.training.samples.accepted")
                .description("Labelled samples acknowledged after a durable append").tag("model", model)
                .register(registry);
    }

    public void samplesAccepted(int count) {
        samplesAccepted.increment(count);
    }

    /** Counts samples refused, by a short reason ({@code invalid}, {@code buffer-full}). */
    public void samplesRejected(String reason, int count) {
        Counter.builder("microkernel.training.samples.rejected").description("Labelled samples refused")
                .tags("model", model, "reason", reason).register(registry).increment(count);
    }

    /** Adds what a round's pauses for serving waited ({@link ServingYield}). */
    public void roundYielded(long pauses, Duration waited) {
        Counter.builder("microkernel.training.round.yields").description("Pauses of training rounds that waited for serving")
                .tag("model", model).register(registry).increment(pauses);
        Counter.builder("microkernel.training.round.yielded.seconds")
                .description("Time training rounds waited for serving's in-flight requests").tag("model", model)
                .register(registry).increment(waited.toNanos() / 1e9);
    }

    /** Records a finished round: its outcome, duration and, when it got that far, its losses and accuracy. */
    public void roundFinished(RoundRecord record, Duration duration, double lastTrainLoss) {
        String outcome = record.state().wireName();
        Counter.builder("microkernel.training.rounds").description("Finished training rounds by outcome")
                .tags("model", model, "outcome", outcome).register(registry).increment();
        Timer.builder("microkernel.training.round.duration").description("Wall time of a training round")
                .tags("model", model, "outcome", outcome).register(registry).record(duration);
        if (!Double.isNaN(lastTrainLoss)) {
            this.lastTrainLoss.set(lastTrainLoss);
        }
        if (record.candidateMetrics() != null) {
            lastHoldoutLoss.set(record.candidateMetrics().loss());
            Double accuracy = record.candidateMetrics().accuracy();
            lastHoldoutAccuracy.set(accuracy == null ? Double.NaN : accuracy);
        }
    }
}
