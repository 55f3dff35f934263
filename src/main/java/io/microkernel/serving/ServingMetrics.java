package io.microkernel.serving;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serving meters: inference latency by version and outcome, the active version, swaps and load
 * failures. Prometheus names: {@code microkernel_inference_seconds},
 * {@code microkernel_model_active_version}, {@code microkernel_model_swaps_total},
 * {@code microkernel_model_load_failures_total}.
 *
 * <p>Thread-safe.
 */
public final class ServingMetrics {

    /** How a request ended, as the {@code outcome} tag says it. */
    public enum Outcome {
        OK("ok"), INVALID("invalid"), UNAVAILABLE("unavailable"), ERROR("error");

        final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }
    }

    private final MeterRegistry registry;
    private final String model;
    private final AtomicInteger activeVersion = new AtomicInteger();
    private final Counter swaps;
    private final Counter loadFailures;

    public ServingMetrics(MeterRegistry registry, String model) {
        this.registry = registry;
        this.model = model;
        Gauge.builder("microkernel.model.active.version", activeVersion, AtomicInteger::get)
                .description("The model version serving requests (0 while none is loaded)")
                .tag("model", model)
                .register(registry);
        swaps = Counter.builder("microkernel.model.swaps").description("Completed model swaps")
                .tag("model", model).register(registry);
        loadFailures = Counter.builder("microkernel.model.load.failures")
                .description("Model versions that failed to load or warm up").tag("model", model).register(registry);
    }

    public void recordInference(String version, Outcome outcome, long nanos) {
        Timer.builder("microkernel.inference")
                .description("Inference latency, from acquiring the model to the answer")
                .tags("model", model, "version", version, "outcome", outcome.tag)
                .publishPercentileHistogram()
                .register(registry)
                .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void activeVersion(int version) {
        activeVersion.set(version);
    }

    void swapped() {
        swaps.increment();
    }

    void loadFailed() {
        loadFailures.increment();
    }
}
