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
import java.util.List;
import java.util.OptionalInt;

/**
 * The fleet's versions in a JetStream object store bucket: the files of version N are the objects
 * {@code N/checkpoint}, {@code N/inference.onnx} and {@code N/manifest.json} (the manifest holds
 * each file's SHA-256 and the lineage). The manifest is put last, so a version whose manifest is
 * there is complete; a trainer killed while uploading leaves no version, only orphans the next
 * upload of that number replaces.
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
        try {
            return store().getList().stream().filter(i -> !i.isDeleted())
                    .map(ObjectInfo::getObjectName).filter(n -> n.endsWith("/" + manifest))
                    .mapToInt(n -> Integer.parseInt(n.substring(0, n.indexOf('/')))).max();
        } catch (IOException | JetStreamApiException e) {
            throw new FleetUnavailableException("cannot list the fleet's versions: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetUnavailableException("interrupted while listing versions", e);
        }
    }
}
