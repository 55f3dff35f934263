package io.microkernel.training.features;

import io.microkernel.store.Durable;
import io.microkernel.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Frozen features per sample, kept across rounds: what the frozen part of a model computes for one
 * sample, keyed by the sample and by a hash of the frozen part (its graph and its frozen parameter
 * values). Entries of another hash are dropped the moment a round asks for a new one, so features
 * computed by an older backbone are never reused.
 *
 * <p>Memory is bounded by {@code maxMemoryBytes}; the least recently used entries beyond it are
 * written to {@code spillDir/<hash>/} (when spilling is on) and read back from there on demand.
 *
 * <p>Thread-safe: every method is synchronized. Rounds run one at a time, so there is no contention
 * in practice.
 */
public final class FeatureCache {

    private static final Logger LOG = Logger.getLogger(FeatureCache.class);

    /** One sample: its id and a fingerprint of its inputs, so a reused id never returns stale features. */
    public record Key(long sampleId, long fingerprint) {
        String fileName() {
            return sampleId + "-" + Long.toHexString(fingerprint) + FeatureFile.SUFFIX;
        }
    }

    private final Path spillDir;
    private final long maxMemoryBytes;
    private final boolean spill;
    private final LinkedHashMap<Key, Map<String, Tensor>> memory = new LinkedHashMap<>(256, 0.75f, true);
    private long memoryBytes;
    private String hash;

    /**
     * @param spillDir       where entries beyond the memory bound go; created on first spill
     * @param maxMemoryBytes the most feature bytes kept in memory
     * @param spill          whether entries beyond the bound are written to disk (else dropped)
     */
    public FeatureCache(Path spillDir, long maxMemoryBytes, boolean spill) {
        this.spillDir = Objects.requireNonNull(spillDir, "spillDir");
        this.maxMemoryBytes = Math.max(0, maxMemoryBytes);
        this.spill = spill;
        deleteRecursively(spillDir);
    }

    /**
     * Makes {@code frozenHash} the current frozen part: when it differs from the last one, every
     * entry computed under the old one, in memory and on disk, is dropped.
     */
    public synchronized void useFrozenPart(String frozenHash) {
        Objects.requireNonNull(frozenHash, "frozenHash");
        if (frozenHash.equals(hash)) {
            return;
        }
        if (hash != null) {
            LOG.debugf("frozen part changed from %s to %s: dropping %d cached feature sets", hash, frozenHash,
                    memory.size());
        }
        memory.clear();
        memoryBytes = 0;
        deleteRecursively(spillDir);
        hash = frozenHash;
    }

    /** The hash entries are kept under now; empty before the first {@link #useFrozenPart}. */
    public synchronized Optional<String> frozenPart() {
        return Optional.ofNullable(hash);
    }

    /** The features of {@code key} under {@code frozenHash}, from memory or disk; empty when not cached. */
    public synchronized Optional<Map<String, Tensor>> get(String frozenHash, Key key) {
        if (!frozenHash.equals(hash)) {
            return Optional.empty();
        }
        Map<String, Tensor> found = memory.get(key);
        if (found != null) {
            return Optional.of(found);
        }
        Path file = currentDir().resolve(key.fileName());
        if (!spill || !Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            Map<String, Tensor> read = FeatureFile.read(file);
            keepInMemory(key, read);
            return Optional.of(read);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("cached features %s are unreadable (%s); computing them again", file.getFileName(),
                    e.getMessage());
            return Optional.empty();
        }
    }

    /** Keeps the features of {@code key} computed under {@code frozenHash}; ignored for another hash. */
    public synchronized void put(String frozenHash, Key key, Map<String, Tensor> features) {
        if (!frozenHash.equals(hash)) {
            return;
        }
        keepInMemory(key, Map.copyOf(features));
    }

    /** Feature bytes held in memory now. */
    public synchronized long memoryBytes() {
        return memoryBytes;
    }

    /** Entries held in memory now. */
    public synchronized int memoryEntries() {
        return memory.size();
    }

    /** Drops everything, in memory and on disk. */
    public synchronized void clear() {
        memory.clear();
        memoryBytes = 0;
        deleteRecursively(spillDir);
        hash = null;
    }

    private void keepInMemory(Key key, Map<String, Tensor> features) {
        Map<String, Tensor> old = memory.put(key, features);
        if (old != null) {
            memoryBytes -= bytes(old);
        }
        memoryBytes += bytes(features);
        Iterator<Map.Entry<Key, Map<String, Tensor>>> eldest = memory.entrySet().iterator();
        while (memoryBytes > maxMemoryBytes && eldest.hasNext()) {
            Map.Entry<Key, Map<String, Tensor>> entry = eldest.next();
            eldest.remove();
            memoryBytes -= bytes(entry.getValue());
            if (spill) {
                writeOut(entry.getKey(), entry.getValue());
            }
        }
    }

    private void writeOut(Key key, Map<String, Tensor> features) {
        Path file = currentDir().resolve(key.fileName());
        if (Files.isRegularFile(file)) {
            return;
        }
        try {
            Files.createDirectories(file.getParent());
            FeatureFile.write(file, features);
        } catch (IOException e) {
            // A full or read-only disk costs recomputation, not the round.
            LOG.warnf("cannot spill cached features to %s: %s", file.getParent(), e.getMessage());
        }
    }

    private Path currentDir() {
        return spillDir.resolve(hash);
    }

    static long bytes(Map<String, Tensor> features) {
        long sum = 0;
        for (Tensor t : features.values()) {
            sum += (long) t.elementCount() * t.dtype().byteSize();
        }
        return sum;
    }

    private static void deleteRecursively(Path dir) {
        try {
            Durable.deleteTree(dir);
        } catch (IOException | UncheckedIOException e) {
            LOG.warnf("cannot delete cached features under %s: %s", dir, e.getMessage());
        }
    }
}
