package io.microkernel.fleet;

import io.nats.client.JetStreamApiException;
import io.nats.client.ObjectStore;
import io.nats.client.api.ObjectInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The fleet's versions in a JetStream object store bucket: the files of version N are the objects
 * {@code N/checkpoint}, {@code N/inference.onnx} and {@code N/manifest.json} (the manifest holds
 * each file's SHA-256 and the lineage). The manifest is put last, so a version whose manifest is
 * there is complete; a trainer killed while uploading leaves no version, only orphans the next
 * upload of that number replaces. {@link #prune} applies the store's retention to the bucket.
 *
 * <p>Retention and activation race: a replica prunes from its view of the active pointer while
 * another moves the pointer (a rollback) to a version being deleted. {@link #prune} therefore asks
 * for the pointer's target again right before each object it deletes and never deletes that
 * version; what one delete already in flight can still take away, the pointer's mover puts back
 * after its compare-and-set ({@link #missing}, {@link #restore}), and every replica that holds the
 * pointer's version checks it now and then (see {@code serving.FleetVersions}).
 *
 * <p>Thread-safe.
 */
public final class VersionBucket {

    private final FleetConnection connection;
    private volatile ObjectStore store;

    public VersionBucket(FleetConnection connection) {
        this.connection = connection;
    }

    private ObjectStore store() throws IOException, JetStreamApiException {
        ObjectStore s = store;
        if (s == null) {
            s = connection.objectStore(connection.settings().versionsBucket());
            store = s;
        }
        return s;
    }

    /** Uploads {@code files} (names inside {@code dir}) of version {@code number}; {@code manifest} goes last. */
    public void upload(int number, Path dir, List<String> files, String manifest) {
        try {
            for (String name : files) {
                put(number, dir, name);
            }
            put(number, dir, manifest);
        } catch (IOException | JetStreamApiException | NoSuchAlgorithmException e) {
            throw new FleetUnavailableException("cannot upload version " + number + " to the fleet: " + e.getMessage(), e);
        }
    }

    private void put(int number, Path dir, String name) throws IOException, JetStreamApiException, NoSuchAlgorithmException {
        try (InputStream in = Files.newInputStream(dir.resolve(name))) {
            store().put(number + "/" + name, in);
        }
    }

    /**
     * The objects of version {@code number} out of {@code names} that the bucket lacks (never
     * uploaded or deleted), in the order given; empty when the version is whole.
     */
    public List<String> missing(int number, List<String> names) {
        try {
            List<String> missing = new ArrayList<>();
            for (String name : names) {
                ObjectInfo info = store().getInfo(number + "/" + name);
                if (info == null || info.isDeleted()) {
                    missing.add(name);
                }
            }
            return missing;
        } catch (IOException | JetStreamApiException e) {
            throw new FleetUnavailableException("cannot look up version " + number + " in the fleet: " + e.getMessage(), e);
        }
    }

    /**
     * Uploads the objects of version {@code number} that the bucket lacks, from {@code dir}: files
     * first, {@code manifest} last, so the version counts as complete only once it is whole again.
     *
     * @return the names uploaded; empty when nothing was missing
     */
    public List<String> restore(int number, Path dir, List<String> files, String manifest) {
        List<String> all = new ArrayList<>(files);
        all.add(manifest);
        List<String> missing = missing(number, all);
        try {
            for (String name : missing) {
                put(number, dir, name);
            }
        } catch (IOException | JetStreamApiException | NoSuchAlgorithmException e) {
            throw new FleetUnavailableException("cannot upload version " + number + " to the fleet: " + e.getMessage(), e);
        }
        return missing;
    }

    /** Whether the bucket holds a complete version {@code number} (its manifest is there). */
    public boolean holds(int number, String manifest) {
        try {
            ObjectInfo info = store().getInfo(number + "/" + manifest);
            return info != null && !info.isDeleted();
        } catch (IOException | JetStreamApiException e) {
            throw new FleetUnavailableException("cannot look up version " + number + " in the fleet: " + e.getMessage(), e);
        }
    }

    /**
     * Downloads the files of version {@code number} into {@code target} (created); the client checks
     * each object's digest as it reads, the caller checks the manifest's hashes.
     */
    public void download(int number, List<String> files, Path target) {
        try {
            Files.createDirectories(target);
            for (String name : files) {
                try (OutputStream out = Files.newOutputStream(target.resolve(name))) {
                    store().get(number + "/" + name, out);
                }
            }
        } catch (IOException | JetStreamApiException | NoSuchAlgorithmException e) {
            throw new FleetUnavailableException("cannot download version " + number + " from the fleet: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetUnavailableException("interrupted while downloading version " + number, e);
        }
    }

    /** The highest version number with a manifest in the bucket, if any. */
    public OptionalInt highest(String manifest) {
        return versions(manifest).stream().mapToInt(Integer::intValue).max();
    }

    /** The complete versions in the bucket (those with a manifest), ascending. */
    public List<Integer> versions(String manifest) {
        return objectsByVersion().entrySet().stream().filter(e -> e.getValue().contains(manifest))
                .map(Map.Entry::getKey).toList();
    }

    /** The live objects' names by version number, ascending; names that are not {@code N/file} are left out. */
    private SortedMap<Integer, Set<String>> objectsByVersion() {
        try {
            SortedMap<Integer, Set<String>> byVersion = new TreeMap<>();
            for (ObjectInfo info : store().getList()) {
                String name = info.getObjectName();
                int slash = name.indexOf('/');
                if (info.isDeleted() || slash < 1 || !name.substring(0, slash).matches("[1-9][0-9]{0,8}")) {
                    continue;
                }
                byVersion.computeIfAbsent(Integer.parseInt(name.substring(0, slash)), n -> new TreeSet<>())
                        .add(name.substring(slash + 1));
            }
            return byVersion;
        } catch (IOException | JetStreamApiException e) {
            throw new FleetUnavailableException("cannot list the fleet's versions: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetUnavailableException("interrupted while listing versions", e);
        }
    }

    /**
     * Applies the store's retention to the bucket: keeps the {@code retain} newest complete versions
     * and the active one ({@link #retained}), and deletes every other version (its manifest first, so
     * it stops counting as complete at once, then its files), and the orphans of uploads that died
     * below the newest complete version (a new upload always takes a higher number).
     *
     * <p>{@code pointerTarget} is asked for the fleet's active version once to choose what to keep,
     * then again right before each object is deleted: a version the pointer was moved to meanwhile
     * is not touched any further (a rollback during a prune keeps its target). When it cannot be
     * read, nothing more is deleted.
     *
     * @param pointerTarget the version the fleet's active pointer names now, read from NATS on every
     *                      call; empty when no pointer is set
     * @return the complete versions deleted whole, ascending
     * @throws FleetUnavailableException when NATS cannot be reached; what was deleted stays deleted
     */
    public List<Integer> prune(int retain, Supplier<OptionalInt> pointerTarget, String manifest) {
        SortedMap<Integer, Set<String>> objects = objectsByVersion();
        List<Integer> complete = objects.entrySet().stream().filter(e -> e.getValue().contains(manifest))
                .map(Map.Entry::getKey).toList();
        if (complete.isEmpty()) {
            return List.of();
        }
        Set<Integer> keep = retained(complete, retain, pointerTarget.get());
        int newest = complete.get(complete.size() - 1);
        List<Integer> removed = new ArrayList<>();
        for (Map.Entry<Integer, Set<String>> version : objects.entrySet()) {
            int number = version.getKey();
            boolean isComplete = version.getValue().contains(manifest);
            if (keep.contains(number) || (!isComplete && number > newest)) {
                continue;
            }
            List<String> doomed = new ArrayList<>();
            if (isComplete) {
                doomed.add(manifest);
            }
            version.getValue().stream().filter(n -> !n.equals(manifest)).forEach(doomed::add);
            boolean whole = true;
            try {
                for (String name : doomed) {
                    OptionalInt target = pointerTarget.get();
                    if (target.isPresent() && target.getAsInt() == number) {
                        whole = false;
                        break;
                    }
                    store().delete(number + "/" + name);
                }
            } catch (IOException | JetStreamApiException e) {
                throw new FleetUnavailableException("cannot remove version " + number + " from the fleet: "
                        + e.getMessage(), e);
            }
            if (isComplete && whole) {
                removed.add(number);
            }
        }
        return removed;
    }

    /**
     * The versions the store's retention keeps out of {@code versions}: the {@code retain} newest, and
     * the active one in addition (the same rule as a single node's store).
     */
    public static Set<Integer> retained(Collection<Integer> versions, int retain, OptionalInt active) {
        Set<Integer> keep = new TreeSet<>(versions.stream().sorted(Comparator.reverseOrder()).limit(retain).toList());
        if (active.isPresent() && versions.contains(active.getAsInt())) {
            keep.add(active.getAsInt());
        }
        return keep;
    }

    /**
     * The versions of a replica's local cache that the fleet's retention dropped: those below the
     * oldest of the fleet's {@code retain} newest versions, except the fleet's and the replica's active
     * ones. Nothing while the fleet holds fewer than {@code retain} versions (nothing was dropped yet),
     * and nothing newer than the fleet's versions (a promotion may be on its way up).
     */
    public static List<Integer> droppedFromCache(Collection<Integer> cached, OptionalInt cachedActive,
            Collection<Integer> fleetVersions, int retain, OptionalInt fleetActive) {
        if (fleetVersions.size() < retain) {
            return List.of();
        }
        int floor = fleetVersions.stream().sorted(Comparator.reverseOrder()).skip(retain - 1L).findFirst().orElseThrow();
        Set<Integer> keep = retained(fleetVersions, retain, fleetActive);
        return cached.stream().filter(v -> v < floor && !keep.contains(v))
                .filter(v -> cachedActive.isEmpty() || cachedActive.getAsInt() != v)
                .filter(v -> fleetActive.isEmpty() || fleetActive.getAsInt() != v)
                .sorted().toList();
    }
}
