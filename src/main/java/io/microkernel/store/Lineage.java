package io.microkernel.store;

import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Where a version came from: the version it was trained from, the round that trained it, how many
 * samples that round used, and the metrics the promotion gate saw.
 *
 * @param parentVersion the version the candidate was trained from; {@code null} for the first version
 * @param roundId       the training round that produced it; {@code null} when none did (bootstrap)
 * @param sampleCount   samples the round trained on
 * @param metrics       holdout metrics of the candidate (loss, accuracy, recall per class...)
 */
public record Lineage(Integer parentVersion, String roundId, long sampleCount, Map<String, Double> metrics) {

    public Lineage {
        metrics = Map.copyOf(Objects.requireNonNullElse(metrics, Map.of()));
        if (sampleCount < 0) {
            throw new IllegalArgumentException("sample count must not be negative, found " + sampleCount);
        }
    }

    /** The lineage of version 1, made from the base artifact set. */
    public static Lineage bootstrap() {
        return new Lineage(null, null, 0, Map.of());
    }

    /** The lineage of a version a training round promoted. */
    public static Lineage fromRound(int parentVersion, String roundId, long sampleCount, Map<String, Double> metrics) {
        return new Lineage(parentVersion, Objects.requireNonNull(roundId, "roundId"), sampleCount, metrics);
    }

    public OptionalInt parent() {
        return parentVersion == null ? OptionalInt.empty() : OptionalInt.of(parentVersion);
    }
}
