package io.microkernel.training.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureCacheTest {

    @TempDir
    Path dir;

    /** 64 floats: 256 bytes per entry. */
    private static Map<String, Tensor> features(int seed) {
        float[] values = new float[64];
        for (int i = 0; i < values.length; i++) {
            values[i] = seed * 1000 + i;
        }
        return Map.of("features", Tensor.ofFloats(new long[] {64}, values));
    }

    private static FeatureCache.Key key(long id) {
        return new FeatureCache.Key(id, 42);
    }

    @Test
    void entriesBeyondTheMemoryBoundSpillToDiskAndComeBackIntact() {
        FeatureCache cache = new FeatureCache(dir.resolve("cache"), 1024, true);
        cache.useFrozenPart("h1");
        for (int i = 0; i < 10; i++) {
            cache.put("h1", key(i), features(i));
        }
        assertThat(cache.memoryBytes()).isLessThanOrEqualTo(1024);
        assertThat(cache.memoryEntries()).isEqualTo(4);
        assertThat(dir.resolve("cache/h1")).isDirectoryContaining(p -> p.toString().endsWith(".features"));
        for (int i = 0; i < 10; i++) {
            assertThat(cache.get("h1", key(i))).as("sample %d", i).contains(features(i));
        }
        assertThat(cache.memoryBytes()).isLessThanOrEqualTo(1024);
    }

    @Test
    void withoutSpillingEntriesBeyondTheBoundAreDropped() {
        FeatureCache cache = new FeatureCache(dir.resolve("cache"), 512, false);
        cache.useFrozenPart("h1");
        for (int i = 0; i < 5; i++) {
            cache.put("h1", key(i), features(i));
        }
        assertThat(cache.get("h1", key(0))).isEmpty();
        assertThat(cache.get("h1", key(4))).contains(features(4));
        assertThat(dir.resolve("cache")).doesNotExist();
    }

    @Test
    void anotherFrozenPartDropsEveryEntryInMemoryAndOnDisk() {
        FeatureCache cache = new FeatureCache(dir.resolve("cache"), 256, true);
        cache.useFrozenPart("h1");
        cache.put("h1", key(1), features(1));
        cache.put("h1", key(2), features(2));
        assertThat(dir.resolve("cache/h1")).exists();

        cache.useFrozenPart("h2");

        assertThat(cache.get("h2", key(1))).isEmpty();
        assertThat(cache.get("h1", key(1))).as("the old hash is no longer answered").isEmpty();
        assertThat(dir.resolve("cache/h1")).doesNotExist();
        assertThat(cache.memoryEntries()).isZero();
        cache.put("h1", key(3), features(3));
        assertThat(cache.memoryEntries()).as("features of an old frozen part are refused").isZero();
    }

    @Test
    void aSampleIdWithOtherInputsMisses() {
        FeatureCache cache = new FeatureCache(dir.resolve("cache"), 1 << 20, true);
        cache.useFrozenPart("h1");
        cache.put("h1", new FeatureCache.Key(7, 1), features(7));
        assertThat(cache.get("h1", new FeatureCache.Key(7, 2))).isEmpty();
        assertThat(cache.get("h1", new FeatureCache.Key(7, 1))).isPresent();
    }

    @Test
    void aTornSpillFileIsRecomputedNotTrusted() throws Exception {
        FeatureCache cache = new FeatureCache(dir.resolve("cache"), 256, true);
        cache.useFrozenPart("h1");
        cache.put("h1", key(1), features(1));
        cache.put("h1", key(2), features(2));
        Path spilled = dir.resolve("cache/h1").resolve(key(1).fileName());
        Files.write(spilled, new byte[] {1, 2, 3});
        assertThat(cache.get("h1", key(1))).isEmpty();
    }
}
