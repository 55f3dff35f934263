package io.microkernel.serving;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serving meters: inference latency by version and outcome, the active version, swaps and load
 * failures, and the sizes of the dynamic batcher's runs. Prometheus names: {@code microkernel_inference_seconds},
 * {@code microkernel_model_active_version}, {@code microkernel_model_swaps_total},
 * {@code microkernel_model_load_failures_total}, {@code microkernel_inference_batch_requests} and
 * {@code microkernel_inference_batch_rows}.
 *
 * <p>The inference timers of a version are registered once, when the version is loaded, and removed
 * from the registry when its session closes, so the number of meters stays bounded however many
 * versions a long-running process serves.
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

    /**
     * Upper bounds of the histogram buckets of the batcher's runs ({@code le} of
     * {@code microkernel_inference_batch_requests_bucket} and {@code microkernel_inference_batch_rows_bucket}):
     * how many runs answered one request, two, up to four, and so on.
     */
    static final double[] BATCH_SIZE_BUCKETS = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256};

    private final MeterRegistry registry;
    private final String model;
    private final AtomicInteger activeVersion = new AtomicInteger();
    private final Counter swaps;
    private final Counter loadFailures;
    private final io.micrometer.core.instrument.DistributionSummary batchRequests;
    private final io.micrometer.core.instrument.DistributionSummary batchRows;
    /** Timers of loaded versions; the lock for {@link #loads}, too. */
    private final Map<Integer, Map<Outcome, Timer>> byVersion = new ConcurrentHashMap<>();
    /** How many loaded sessions each version has (active and pinned may both hold one); guarded by {@link #byVersion}. */
    private final Map<Integer, Integer> loads = new HashMap<>();
    /** Timers of requests no version answered, tagged {@code version="none"}. */
    private final Map<Outcome, Timer> unversioned;

    public ServingMetrics(MeterRegistry registry, String model) {
        this.registry = registry;
        this.model = model;
        Gauge.builder("microkernel.model.active.version", activeVersion, AtomicInteger::get)
                .description("The model version serving requests (0 while none is loaded)")
                .tag("model", model)
                .register(registry);
        batchRequests = io.micrometer.core.instrument.DistributionSummary.builder("microkernel.inference.batch.requests")
                .description("Requests answered by one run of the dynamic batcher").tag("model", model)
                .serviceLevelObjectives(BATCH_SIZE_BUCKETS).register(registry);
        batchRows = io.micrometer.core.instrument.DistributionSummary.builder("microkernel.inference.batch.rows")
                .description("Rows in one run of the dynamic batcher").tag("model", model)
                .serviceLevelObjectives(BATCH_SIZE_BUCKETS).register(registry);
        swaps = Counter.builder("microkernel.model.swaps").description("Completed model swaps")
                .tag("model", model).register(registry);
        loadFailures = Counter.builder("microkernel.model.load.failures")
                .description("Model versions that failed to load or warm up").tag("model", model).register(registry);
        unversioned = timers("none");
    }

    /**
     * Records one request's latency. {@code version} is the version that answered, or empty when
     * none did (not ready, unknown version); a version's timers exist from {@link #versionLoaded}
     * until its last load is closed, which holds while the caller holds a reference to it.
     */
    public void recordInference(OptionalInt version, Outcome outcome, long nanos) {
        Map<Outcome, Timer> timers = version.isPresent() ? byVersion.get(version.getAsInt()) : null;
        if (timers == null) {
            timers = unversioned;
        }
        timers.get(outcome).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Registers the inference timers of a version just loaded; once per version however often it is loaded. */
    void versionLoaded(int version) {
        synchronized (byVersion) {
            loads.merge(version, 1, Integer::sum);
            byVersion.computeIfAbsent(version, v -> timers(Integer.toString(v)));
        }
    }

    /** Removes a version's timers from the registry when its last loaded session closes. */
    void versionClosed(int version) {
        synchronized (byVersion) {
            Integer left = loads.merge(version, -1, Integer::sum);
            if (left != null && left > 0) {
                return;
            }
            loads.remove(version);
            Map<Outcome, Timer> timers = byVersion.remove(version);
            if (timers != null) {
                timers.values().forEach(registry::remove);
            }
        }
    }

    private Map<Outcome, Timer> timers(String versionTag) {
        Map<Outcome, Timer> timers = new EnumMap<>(Outcome.class);
        for (Outcome outcome : Outcome.values()) {
            timers.put(outcome, Timer.builder("microkernel.inference")
                    .description("Inference latency, from acquiring the model to the answer")
                    .tags("model", model, "version", versionTag, "outcome", outcome.tag)
                    .publishPercentileHistogram()
                    .register(registry));
        }
        return timers;
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

    /**
     * One run of the dynamic batcher: how many requests it answered ({@code microkernel_inference_batch_requests})
     * and how many rows it ran ({@code microkernel_inference_batch_rows}), both histograms over
     * {@link #BATCH_SIZE_BUCKETS}, so the gathered batch sizes show, not only their mean.
     */
    void ranBatch(int requests, int rows) {
        batchRequests.record(requests);
        batchRows.record(rows);
    }
}
