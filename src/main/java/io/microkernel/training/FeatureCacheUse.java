package io.microkernel.training;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * Whether a round trained on cached frozen features, and how often the cache had them.
 *
 * @param used     true when the round trained on the graphs cut at the frozen frontier
 * @param reason   why it did not (the cache is off, or why the graphs cannot be cut); null when used
 * @param hits     sample lookups (per train step and per eval batch) the cache answered
 * @param misses   sample lookups the frozen part had to compute
 * @param hitRate  hits over lookups, 0 before the first lookup
 * @param features the frontier tensors the cache holds per sample; null when not used
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record FeatureCacheUse(boolean used, String reason, long hits, long misses, double hitRate,
        List<String> features) {

    /** A round that trained on the full graphs, and why. */
    public static FeatureCacheUse notUsed(String reason) {
        return new FeatureCacheUse(false, reason, 0, 0, 0, null);
    }

    /** A round that trained on cached features. */
    public static FeatureCacheUse used(long hits, long misses, List<String> features) {
        long lookups = hits + misses;
        return new FeatureCacheUse(true, null, hits, misses, lookups == 0 ? 0 : (double) hits / lookups,
                List.copyOf(features));
    }
}
