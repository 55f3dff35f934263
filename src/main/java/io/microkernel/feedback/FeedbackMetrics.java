package io.microkernel.feedback;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.microkernel.fleet.FleetPredictions;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live accuracy of each served version: for every label that arrived by prediction id, whether
 * the version that served the prediction had it right. Prometheus names:
 * {@code microkernel_feedback_labels_total{version,correct}} and
 * {@code microkernel_feedback_accuracy{version}}.
 *
 * <p>Thread-safe. Counts since the process started.
 */
public final class FeedbackMetrics {

    /** Labels and hits of one version. */
    public record VersionAccuracy(long labelled, long correct) {
        public double accuracy() {
            return labelled == 0 ? Double.NaN : (double) correct / labelled;
        }
    }

    private final MeterRegistry registry;
    private final String model;
    private final Map<Integer, AtomicLong[]> perVersion = new ConcurrentHashMap<>();

    public FeedbackMetrics(MeterRegistry registry, String model) {
        this.registry = registry;
        this.model = model;
    }

    /** One label for a prediction {@code version} served as {@code predicted}. */
    public void labelled(int version, boolean correct) {
        AtomicLong[] counts = perVersion.computeIfAbsent(version, v -> {
            AtomicLong[] created = {new AtomicLong(), new AtomicLong()};
            Gauge.builder("microkernel.feedback.accuracy", created, c -> c[0].get() == 0 ? Double.NaN
                            : (double) c[1].get() / c[0].get())
                    .description("Share of labelled predictions the serving version had right")
                    .tags("model", model, "version", Integer.toString(v)).strongReference(true).register(registry);
            return created;
        });
        counts[0].incrementAndGet();
        if (correct) {
            counts[1].incrementAndGet();
        }
        Counter.builder("microkernel.feedback.labels").description("Labels received by prediction id")
                .tags("model", model, "version", Integer.toString(version), "correct", Boolean.toString(correct))
                .register(registry).increment();
    }

    /**
     * Counts what the prediction log dropped: {@code microkernel_feedback_log_dropped_total{reason}}
     * ({@code queue-full}: the writer had fallen behind and inference did not wait;
     * {@code write-failed}: the append failed).
     */
    public void watch(PredictionLog log) {
        FunctionCounter.builder("microkernel.feedback.log.dropped", log, PredictionLog::droppedQueueFull)
                .description("Predictions the log did not keep, so they cannot receive feedback")
                .tags("model", model, "reason", "queue-full").register(registry);
        FunctionCounter.builder("microkernel.feedback.log.dropped", log, PredictionLog::droppedWriteFailed)
                .description("Predictions the log did not keep, so they cannot receive feedback")
                .tags("model", model, "reason", "write-failed").register(registry);
    }

    /**
     * Counts what the fleet's prediction log took and missed: {@code microkernel_feedback_fleet_shared_total}
     * and {@code microkernel_feedback_fleet_dropped_total} (kept on the serving replica only).
     */
    public void watch(FleetPredictions fleet) {
        FunctionCounter.builder("microkernel.feedback.fleet.shared", fleet, FleetPredictions::shared)
                .description("Logged predictions the fleet's stream acknowledged").tags("model", model).register(registry);
        FunctionCounter.builder("microkernel.feedback.fleet.dropped", fleet, FleetPredictions::dropped)
                .description("Logged predictions not shared with the fleet (only their replica can take their labels)")
                .tags("model", model).register(registry);
    }

    /** Per version, in version order. */
    public Map<Integer, VersionAccuracy> snapshot() {
        Map<Integer, VersionAccuracy> copy = new TreeMap<>();
        perVersion.forEach((v, c) -> copy.put(v, new VersionAccuracy(c[0].get(), c[1].get())));
        return copy;
    }
}
