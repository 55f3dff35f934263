package io.microkernel.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * The versions of one model on disk.
 *
 * <pre>
 * {root}/base/               the artifact set the lineage started from (graphs shared by all versions)
 * {root}/versions/N/         checkpoint, inference.onnx, manifest.json (lineage, hashes, created)
 * {root}/ACTIVE              the active version number, replaced by atomic rename
 * </pre>
 *
 * <p>Every change is crash-safe: a version is written into a temp folder, fsynced and renamed into
 * place, so a reader never sees half a version; {@code ACTIVE} is replaced the same way. Opening a
 * store recovers it: temp folders are removed, every version is checked against the hashes in its
 * manifest, and when {@code ACTIVE} names a missing or corrupt version the newest intact one becomes
 * active, with a log line that says why.
 *
 * <p>Thread-safe: changes are serialised on the store, reads return immutable snapshots. One process
 * owns a store folder at a time.
 */
public final class ModelStore {

    public static final String CHECKPOINT = "checkpoint";
    public static final String INFERENCE_MODEL = "inference.onnx";
    public static final String MANIFEST = "manifest.json";
    public static final String ACTIVE = "ACTIVE";
    static final String BASE = "base";
    static final String VERSIONS = "versions";
    /** Prefix of folders that are being written or deleted; recovery removes them. */
    static final String TEMP_PREFIX = ".tmp-";

    private static final Logger LOG = Logger.getLogger(ModelStore.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path root;
    private final Path versionsDir;
    private final int retain;
    private final TreeMap<Integer, ModelVersion> intact = new TreeMap<>();
    /** Highest folder number ever seen, intact or not, so a number is never given out twice. */
    private int highestNumber;
    private volatile Integer active;

    private ModelStore(Path root, int retain) {
        this.root = root;
        this.versionsDir = root.resolve(VERSIONS);
        this.retain = retain;
    }

    /**
     * Opens (creating if needed) and recovers the store in {@code root}.
     *
     * @param retain how many versions to keep; the active one is kept in addition
     * @throws io.microkernel.problem.ConfigurationException when {@code retain} is below 1
     * @throws ProblemException (store-error) when the folder cannot be created or read
     */
    public static ModelStore open(Path root, int retain) {
        if (retain < 1) {
            throw new io.microkernel.problem.ConfigurationException("microkernel.store.retain", "at least 1", retain);
        }
        ModelStore store = new ModelStore(root.toAbsolutePath(), retain);
        try {
            store.recover();
        } catch (IOException e) {
            throw new ProblemException(ProblemType.STORE_ERROR, "cannot open the model store " + root + ": " + e, e);
        }
        return store;
    }

    /** The folder of this model: {@code {data-dir}/models/{name}}. */
    public Path root() {
        return root;
    }

    /** The artifact set the lineage started from; its graphs serve every version's checkpoint. */
    public Path baseDir() {
        return root.resolve(BASE);
    }

    /** True when no version was ever published (or none survived): the store needs {@link #bootstrap}. */
    public synchronized boolean isEmpty() {
        return intact.isEmpty();
    }

    /** The active version, if any. */
    public synchronized Optional<ModelVersion> active() {
        return active == null ? Optional.empty() : Optional.ofNullable(intact.get(active));
    }

    /** The active version number, if any; cheap enough for every request. */
    public OptionalInt activeNumber() {
        Integer current = active;
        return current == null ? OptionalInt.empty() : OptionalInt.of(current);
    }

    /** Whether {@code number} is a retained intact version now. */
    public synchronized boolean holds(int number) {
        return intact.containsKey(number);
    }

    /** Every retained intact version, oldest first. */
    public synchronized List<ModelVersion> versions() {
        return List.copyOf(intact.values());
    }

    /**
     * One retained version.
     *
     * @throws ProblemException (unknown-version) when the store does not hold it
     */
    public synchronized ModelVersion version(int number) {
        ModelVersion found = intact.get(number);
        if (found == null) {
            throw versionNotFound(number, intact.keySet());
        }
        return found;
    }

    private static ProblemException versionNotFound(int number, java.util.Collection<Integer> retained) {
        return new ProblemException(ProblemType.UNKNOWN_VERSION,
                "version " + number + " not found: expected one of " + retained + ", found " + number);
    }

    /**
     * Publishes a new version from a folder holding {@value #CHECKPOINT} and {@value #INFERENCE_MODEL}.
     * The files are copied (the source folder is left as it is), hashed and fsynced in a temp folder
     * that is then renamed into place. The new version is not activated: call
     * {@code ServedModel.swap} so serving and {@code ACTIVE} change together.
     *
     * <p>Class names and the inference output name are inherited from the parent version (or the
     * active one when the lineage names no parent).
     *
     * @return the new version
     * @throws ProblemException (store-error) when a file is missing or cannot be written
     */
    public synchronized ModelVersion publish(Path sourceDir, Lineage lineage) {
        ModelVersion template = lineage.parent().isPresent()
                ? version(lineage.parent().getAsInt())
                : active().orElseThrow(() -> new ProblemException(ProblemType.STORE_ERROR, 
                        "cannot publish into an empty store: expected a bootstrapped version 1, found none"));
        for (String name : List.of(CHECKPOINT, INFERENCE_MODEL)) {
            if (!Files.isRegularFile(sourceDir.resolve(name))) {
                throw new ProblemException(ProblemType.STORE_ERROR, "cannot publish from " + sourceDir + ": expected file " + name + ", found none");
            }
        }
        ModelVersion published = writeVersion(lineage, template.classNames(), template.inferenceOutput(), temp -> {
            Durable.copy(sourceDir.resolve(CHECKPOINT), temp.resolve(CHECKPOINT));
            Durable.copy(sourceDir.resolve(INFERENCE_MODEL), temp.resolve(INFERENCE_MODEL));
        });
        applyRetention();
        return published;
    }

    /**
     * Creates version 1 of an empty store: copies the artifact set into {@code base/}, writes the
     * inference model of its checkpoint through {@code exporter}, and activates it.
     *
     * @param artifactDir     the artifact set (training, eval and optimizer graphs, checkpoint, manifest)
     * @param classNames      class names of a classifier, empty for regression
     * @param inferenceOutput the graph output the inference model answers with
     * @param exporter        writes the inference model for a checkpoint
     * @throws ProblemException (store-error) when the store already holds versions or a file cannot be written
     */
    public synchronized ModelVersion bootstrap(Path artifactDir, List<String> classNames, String inferenceOutput,
            InferenceExporter exporter) {
        if (!intact.isEmpty()) {
            throw new ProblemException(ProblemType.STORE_ERROR, "cannot bootstrap " + root + ": expected an empty store, found versions " + intact.keySet());
        }
        try {
            Path tempBase = root.resolve(TEMP_PREFIX + BASE + "-" + UUID.randomUUID());
            Files.createDirectories(tempBase);
            Durable.copyFolderFiles(artifactDir, tempBase);
            // A base left by a bootstrap that crashed before version 1 existed is replaced.
            discard(baseDir());
            Durable.publishFolder(tempBase, baseDir());
        } catch (IOException e) {
            throw new ProblemException(ProblemType.STORE_ERROR, "cannot copy the artifact set " + artifactDir + " into " + baseDir() + ": " + e, e);
        }
        ModelVersion first = writeVersion(Lineage.bootstrap(), classNames, inferenceOutput, temp -> {
            Durable.copy(baseDir().resolve(CHECKPOINT), temp.resolve(CHECKPOINT));
            exporter.export(temp.resolve(CHECKPOINT), temp.resolve(INFERENCE_MODEL));
            Durable.fsync(temp.resolve(INFERENCE_MODEL));
        });
        activate(first.version());
        return first;
    }

    /**
     * Makes a retained version the active one by replacing {@code ACTIVE} atomically. Serving code
     * calls this through {@code ServedModel.swap}, after the new session is loaded and warm.
     *
     * @throws ProblemException (unknown-version) when the store does not hold the version
     */
    public synchronized ModelVersion activate(int number) {
        ModelVersion target = version(number);
        try {
            Durable.replace(root.resolve(ACTIVE), number + "\n");
        } catch (IOException e) {
            throw new ProblemException(ProblemType.STORE_ERROR, "cannot write " + root.resolve(ACTIVE) + ": " + e, e);
        }
        active = number;
        applyRetention();
        return target;
    }

    /**
     * Adds version {@code number} exactly as another replica published it (fleet mode): copies the
     * checkpoint, inference model and manifest from {@code sourceDir}, checks every file against the
     * manifest's SHA-256, and renames the folder into place. Does not activate it. A version already
     * held is returned as it is.
     *
     * @throws ProblemException (store-error) when a file is missing, a hash does not match or the
     *         manifest names another number
     */
    public synchronized ModelVersion importVersion(int number, Path sourceDir) {
        ModelVersion held = intact.get(number);
        if (held != null) {
            return held;
        }
        Path temp = versionsDir.resolve(TEMP_PREFIX + "import-" + number + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(temp);
            for (String name : List.of(CHECKPOINT, INFERENCE_MODEL, MANIFEST)) {
                Durable.copy(sourceDir.resolve(name), temp.resolve(name));
            }
            ModelVersion checked = readVerified(number, temp);
            Path target = versionsDir.resolve(Integer.toString(number));
            // A folder of that number that recovery found corrupt: the fleet's copy replaces it.
            discard(target);
            Durable.publishFolder(temp, target);
            highestNumber = Math.max(highestNumber, number);
            ModelVersion version = new ModelVersion(number, checked.lineage(), checked.classNames(),
                    checked.inferenceOutput(), checked.fileHashes(), checked.created(), target);
            intact.put(number, version);
            LOG.infof("imported version %d of %s from the fleet", number, root.getFileName());
            return version;
        } catch (IOException | RuntimeException e) {
            discardQuietly(temp);
            throw new ProblemException(ProblemType.STORE_ERROR, "cannot import version " + number + " from "
                    + sourceDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes the next published version number higher than {@code number}: in fleet mode version
     * numbers are the fleet's, and this replica may not hold the newest ones.
     */
    public synchronized void reserveNumbersThrough(int number) {
        highestNumber = Math.max(highestNumber, number);
    }

    /** How many versions the store keeps besides the active one ({@code microkernel.store.retain}). */
    public int retain() {
        return retain;
    }

    /**
     * Removes a retained version that is not active (fleet mode: the fleet's retention dropped it,
     * and a cache follows the fleet). Crash-safe like retention: renamed away, then deleted.
     *
     * @return whether a version was removed; false when the store does not hold it or it is active
     */
    public synchronized boolean discardVersion(int number) {
        if (!intact.containsKey(number) || (active != null && active == number)) {
            return false;
        }
        ModelVersion removed = intact.remove(number);
        try {
            discard(removed.dir());
            LOG.infof("removed version %d of %s: the fleet no longer retains it", number, root.getFileName());
        } catch (IOException e) {
            LOG.warnf("could not remove version %d (%s); it will be retried at the next start", number, e.getMessage());
        }
        return true;
    }

    /** Writes the inference model of a checkpoint; the store fsyncs the result. */
    @FunctionalInterface
    public interface InferenceExporter {
        void export(Path checkpoint, Path target) throws IOException;
    }

    @FunctionalInterface
    private interface FolderWriter {
        void write(Path temp) throws IOException;
    }

    private ModelVersion writeVersion(Lineage lineage, List<String> classNames, String inferenceOutput, FolderWriter files) {
        int number = highestNumber + 1;
        Path temp = versionsDir.resolve(TEMP_PREFIX + number + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(temp);
            files.write(temp);
            Map<String, String> hashes = new LinkedHashMap<>();
            for (String name : List.of(CHECKPOINT, INFERENCE_MODEL)) {
                hashes.put(name, Durable.sha256(temp.resolve(name)));
            }
            Instant created = Instant.now();
            Manifest manifest = new Manifest(number, lineage.parentVersion(), lineage.roundId(), lineage.sampleCount(),
                    lineage.metrics(), classNames, inferenceOutput, hashes, created.toString());
            Durable.write(temp.resolve(MANIFEST), JSON.writeValueAsBytes(manifest));
            Path target = versionsDir.resolve(Integer.toString(number));
            Durable.publishFolder(temp, target);
            highestNumber = number;
            ModelVersion version = new ModelVersion(number, lineage, classNames, inferenceOutput, hashes, created, target);
            intact.put(number, version);
            LOG.infof("published version %d of %s (parent %s, round %s)", number, root.getFileName(),
                    lineage.parentVersion(), lineage.roundId());
            return version;
        } catch (IOException | RuntimeException e) {
            discardQuietly(temp);
            throw new ProblemException(ProblemType.STORE_ERROR, "cannot publish version " + number + " in " + versionsDir + ": " + e.getMessage(), e);
        }
    }

    private void applyRetention() {
        List<Integer> newestFirst = new ArrayList<>(intact.descendingKeySet());
        for (int i = retain; i < newestFirst.size(); i++) {
            int number = newestFirst.get(i);
            if (active != null && active == number) {
                continue;
            }
            ModelVersion removed = intact.remove(number);
            try {
                discard(removed.dir());
                LOG.infof("removed version %d of %s: only the last %d versions are retained", number, root.getFileName(), retain);
            } catch (IOException e) {
                LOG.warnf("could not remove version %d (%s); it will be retried at the next start", number, e.getMessage());
            }
        }
    }

    /** Renames a folder to a temp name before deleting it, so a crash mid-delete never leaves half a version. */
    private void discard(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Path doomed = dir.resolveSibling(TEMP_PREFIX + "deleted-" + dir.getFileName() + "-" + UUID.randomUUID());
        Durable.publishFolder(dir, doomed);
        Durable.deleteTree(doomed);
    }

    private static void discardQuietly(Path dir) {
        try {
            Durable.deleteTree(dir);
        } catch (IOException ignored) {
            // Left for recovery at the next start, which removes temp folders.
        }
    }

    private void recover() throws IOException {
        Files.createDirectories(versionsDir);
        removeTempFolders(root);
        removeTempFolders(versionsDir);
        try (DirectoryStream<Path> folders = Files.newDirectoryStream(versionsDir, Files::isDirectory)) {
            for (Path folder : folders) {
                String name = folder.getFileName().toString();
                if (!name.matches("[1-9][0-9]{0,8}")) {
                    LOG.warnf("ignoring %s: expected a version number as folder name, found '%s'", folder, name);
                    continue;
                }
                int number = Integer.parseInt(name);
                highestNumber = Math.max(highestNumber, number);
                try {
                    intact.put(number, readVerified(number, folder));
                } catch (RuntimeException e) {
                    // A manifest that does not parse or a hash that does not match: skip, never serve it.
                    LOG.warnf("skipping version %d: %s", number, e.getMessage());
                }
            }
        }
        Path activeFile = root.resolve(ACTIVE);
        String reason = null;
        if (!Files.exists(activeFile)) {
            reason = "there is no ACTIVE file";
        } else {
            String text = Files.readString(activeFile, StandardCharsets.UTF_8).trim();
            if (!text.matches("[1-9][0-9]{0,8}")) {
                reason = "ACTIVE holds '" + text + "', expected a version number";
            } else if (!intact.containsKey(Integer.parseInt(text))) {
                reason = "ACTIVE names version " + text + ", which is missing or corrupt (see above)";
            } else {
                active = Integer.parseInt(text);
            }
        }
        if (active == null && !intact.isEmpty()) {
            int newest = intact.lastKey();
            LOG.warnf("activating version %d, the newest intact version, because %s", newest, reason);
            Durable.replace(activeFile, newest + "\n");
            active = newest;
        }
        if (active != null) {
            LOG.infof("model store %s: active version %d, retained %s", root, active, intact.keySet());
        }
    }

    private static void removeTempFolders(Path dir) throws IOException {
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(TEMP_PREFIX))) {
            for (Path temp : temps) {
                LOG.infof("removing %s, left by an interrupted write", temp);
                if (Files.isDirectory(temp)) {
                    Durable.deleteTree(temp);
                } else {
                    Files.deleteIfExists(temp);
                }
            }
        }
        Files.deleteIfExists(dir.resolve(ACTIVE + ".tmp"));
    }

    private ModelVersion readVerified(int number, Path folder) {
        Path manifestFile = folder.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new ProblemException(ProblemType.STORE_ERROR, "expected " + manifestFile + ", found no such file");
        }
        Manifest manifest;
        try {
            manifest = JSON.readValue(manifestFile.toFile(), Manifest.class);
        } catch (IOException e) {
            throw new ProblemException(ProblemType.STORE_ERROR, manifestFile + " is not a readable manifest: " + e.getMessage(), e);
        }
        if (manifest.version() != number) {
            throw new ProblemException(ProblemType.STORE_ERROR, manifestFile + ": expected version " + number + ", found " + manifest.version());
        }
        Map<String, String> hashes = manifest.files() == null ? Map.of() : manifest.files();
        for (String required : List.of(CHECKPOINT, INFERENCE_MODEL)) {
            if (!hashes.containsKey(required)) {
                throw new ProblemException(ProblemType.STORE_ERROR, manifestFile + ": expected a hash for " + required + ", found none");
            }
        }
        for (Map.Entry<String, String> file : hashes.entrySet()) {
            Path path = folder.resolve(file.getKey()).normalize();
            if (!path.getParent().equals(folder.normalize()) || !Files.isRegularFile(path)) {
                throw new ProblemException(ProblemType.STORE_ERROR, "expected file " + path + ", found none");
            }
            String actual;
            try {
                actual = Durable.sha256(path);
            } catch (IOException e) {
                throw new ProblemException(ProblemType.STORE_ERROR, "cannot read " + path + ": " + e.getMessage(), e);
            }
            if (!actual.equalsIgnoreCase(file.getValue())) {
                throw new ProblemException(ProblemType.STORE_ERROR, path + " is corrupt: expected SHA-256 " + file.getValue() + ", found " + actual);
            }
        }
        Lineage lineage = new Lineage(manifest.parent(), manifest.roundId(), manifest.samples(), manifest.metrics());
        Instant created = manifest.created() == null ? Instant.EPOCH : Instant.parse(manifest.created());
        return new ModelVersion(number, lineage, manifest.classes() == null ? List.of() : manifest.classes(),
                manifest.inferenceOutput(), hashes, created, folder);
    }

    /** The on-disk form of a version's manifest.json. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Manifest(
            int version,
            Integer parent,
            @JsonProperty("round_id") String roundId,
            long samples,
            Map<String, Double> metrics,
            List<String> classes,
            @JsonProperty("inference_output") String inferenceOutput,
            Map<String, String> files,
            String created) {
    }
}
