package io.microkernel.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** The latency distribution of one benchmark phase, kept in microseconds with three significant digits. */
final class Latencies {

    private static final long ONE_HOUR_MICROS = 3_600_000_000L;

    private final Histogram histogram = new Histogram(ONE_HOUR_MICROS, 3);

    void recordNanos(long nanos) {
        histogram.recordValue(Math.min(ONE_HOUR_MICROS, Math.max(1, nanos / 1_000)));
    }

    void add(Latencies other) {
        histogram.add(other.histogram);
    }

    long count() {
        return histogram.getTotalCount();
    }

    double percentileMs(double percentile) {
        return histogram.getValueAtPercentile(percentile) / 1_000.0;
    }

    double p50Ms() {
        return percentileMs(50);
    }

    double p99Ms() {
        return percentileMs(99);
    }

    double maxMs() {
        return histogram.getMaxValue() / 1_000.0;
    }

    double meanMs() {
        return histogram.getMean() / 1_000.0;
    }

    /** Count and percentiles in milliseconds, the shape every phase takes in results.json. */
    Map<String, Object> summary() {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("count", count());
        summary.put("p50_ms", round(percentileMs(50)));
        summary.put("p90_ms", round(percentileMs(90)));
        summary.put("p99_ms", round(percentileMs(99)));
        summary.put("p999_ms", round(percentileMs(99.9)));
        summary.put("max_ms", round(maxMs()));
        summary.put("mean_ms", round(meanMs()));
        return summary;
    }

    static double round(double value) {
        return Math.round(value * 1_000.0) / 1_000.0;
    }
}
