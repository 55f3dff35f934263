package io.microkernel.serving;

import io.microkernel.fleet.ActivePointer;
import io.microkernel.fleet.Fleet;
import io.microkernel.fleet.FleetUnavailableException;
import io.microkernel.fleet.VersionBucket;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.store.Durable;
import io.microkernel.store.Lineage;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import org.jboss.logging.Logger;

/**
 * The served model in fleet mode: follows the fleet's active version (fetch from the version
 * bucket when the local store lacks it, check its hashes, then {@link ServedModel#swap}, the same
 * zero-failed-requests protocol as a local swap), publishes promotions to the fleet and moves the
 * pointer for an operator's activation. The local store is a cache: the replica serves what it has
 * while NATS is down and catches up when it returns. The store's retention applies to the fleet's
 * bucket too, and each cache drops what the fleet dropped.
 *
 * <p>The pointer never names a version that stays gone, although retention and activations race
 * (one replica prunes from its view of the pointer while another rolls back to a version being
 * deleted):
 * <ul>
 * <li>the prune asks for the pointer's target right before each delete and spares it
 *     ({@link VersionBucket#prune});</li>
 * <li>an activation needs a whole copy (here or in the bucket; else 404 unknown-version), uploads
 *     what the bucket lacks before its compare-and-set and again after it, for a delete that was
 *     already in flight;</li>
 * <li>every replica that holds the pointer's version puts back what the bucket lacks of it, after
 *     each of its prunes and every {@value #REPAIR_MILLIS} ms ({@link #repairTarget});</li>
 * <li>a replica that finds the pointer's version neither in its store nor whole in the bucket
 *     falls back to the newest version it can load, says why ({@link #fallback}, shown by
 *     readiness as {@code fleet}), and keeps retrying the pointer's version every {@value #RETRY_MILLIS} ms. It
 *     never moves the pointer itself; an activation or the trainer's next promotion (which may
 *     move on from the version it fell back to) does.</li>
 * </ul>
 *
 * <p>Thread-safe: following runs on one thread; promotions and activations may come from any.
 */
public final class FleetVersions implements VersionActivation, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(FleetVersions.class);
    private static final List<String> FILES = List.of(ModelStore.CHECKPOINT, ModelStore.INFERENCE_MODEL);
    private static final List<String> ALL_FILES = List.of(ModelStore.CHECKPOINT, ModelStore.INFERENCE_MODEL,
            ModelStore.MANIFEST);
    private static final long RETRY_MILLIS = 2000;
    private static final long REPAIR_MILLIS = 10_000;

    private final Fleet fleet;
    private final ServedModel served;
    private final ModelStore store;
    private final ScheduledExecutorService follower = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "fleet-version-follower");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicReference<ActivePointer.Pointer> wanted = new AtomicReference<>();
    /** The revision of the pointer delivered last: a retry of an older one is dropped. */
    private volatile long lastRevision;
    private volatile LongConsumer onConsumed = id -> { };
    private volatile Fallback fallback;
    private final long repairMillis;

    /**
     * Why this replica serves another version than the fleet's active one.
     *
     * @param missing         the version the pointer names, found neither here nor whole in the bucket
     * @param pointerRevision the pointer's revision that named it
     * @param serving         the version served instead
     * @param reason          the sentence readiness shows
     */
    record Fallback(int missing, long pointerRevision, OptionalInt serving, String reason) {
    }

    public FleetVersions(Fleet fleet, ServedModel served) {
        this(fleet, served, REPAIR_MILLIS);
    }

    /** With the period of {@link #repairTarget} in milliseconds. */
    FleetVersions(Fleet fleet, ServedModel served, long repairMillis) {
        this.fleet = fleet;
        this.served = served;
        this.store = served.store();
        this.repairMillis = repairMillis;
    }

    /** Starts following the pointer (and sets it from the local active version when no replica has). */
    public void start() {
        fleet.connection().onReconnect(() -> follower.execute(this::seedPointer));
        fleet.pointer().follow(this::pointerMoved);
        if (fleet.connection().isConnected()) {
            follower.execute(this::seedPointer);
        }
        follower.scheduleWithFixedDelay(this::repairTarget, repairMillis, repairMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Why this replica does not serve the fleet's active version: it is in neither this replica's
     * store nor whole in the fleet's bucket, and the replica serves the newest version it can load
     * instead. Empty while it serves the fleet's active version (or has not heard of one).
     */
    public Optional<String> fallback() {
        Fallback now = fallback;
        return now == null ? Optional.empty() : Optional.of(now.reason());
    }

    /** Told the newest sample id a promoted round learned from, whenever the pointer says it. */
    public void onConsumed(LongConsumer listener) {
        onConsumed = listener;
    }

    private void seedPointer() {
        try {
            OptionalInt active = served.activeVersion();
            if (active.isEmpty() || fleet.pointer().read().isPresent()) {
                return;
            }
            ModelVersion version = store.version(active.getAsInt());
            ensureUploaded(version);
            fleet.pointer().compareAndSet(Optional.empty(), version.version(), 0).ifPresent(p ->
                    LOG.infof("fleet: the fleet's active version is %d, this replica's", p.version()));
        } catch (RuntimeException e) {
            LOG.warnf("fleet: cannot set the fleet's first active version: %s", e.getMessage());
        }
    }

    private void pointerMoved(ActivePointer.Pointer pointer) {
        lastRevision = pointer.revision();
        wanted.set(pointer);
        follower.execute(this::follow);
    }

    private void follow() {
        ActivePointer.Pointer pointer = wanted.getAndSet(null);
        if (pointer == null) {
            return;
        }
        onConsumed.accept(pointer.consumedThrough());
        OptionalInt now = served.activeVersion();
        if (now.isPresent() && now.getAsInt() == pointer.version()) {
            fallback = null;
            return;
        }
        try {
            ensureLocal(pointer.version());
            served.swap(pointer.version());
            Fallback before = fallback;
            if (before != null && before.missing() == pointer.version()) {
                LOG.infof("fleet: version %d is back: no longer falling back", pointer.version());
            }
            fallback = null;
            LOG.infof("fleet: now serving the fleet's active version %d", pointer.version());
            fleet.replicas().beat();
            retainCache(OptionalInt.of(pointer.version()));
        } catch (ProblemException e) {
            if (e.type() == ProblemType.UNKNOWN_VERSION) {
                fallBack(pointer, e.getMessage());
            } else {
                LOG.warnf("fleet: cannot serve the fleet's active version %d yet (retrying in %d ms): %s",
                        pointer.version(), RETRY_MILLIS, e.getMessage());
            }
            retry(pointer);
        } catch (RuntimeException e) {
            LOG.warnf("fleet: cannot serve the fleet's active version %d yet (retrying in %d ms): %s",
                    pointer.version(), RETRY_MILLIS, e.getMessage());
            retry(pointer);
        }
    }

    /** Follows {@code pointer} again later, unless the pointer has moved on since (never back to an old one). */
    private void retry(ActivePointer.Pointer pointer) {
        follower.schedule(() -> {
            if (pointer.revision() == lastRevision) {
                wanted.compareAndSet(null, pointer);
            }
            follow();
        }, RETRY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * The pointer names a version that is gone (no whole copy here or in the bucket): serve the newest
     * version that loads instead, once per pointer revision, and say why. The pointer is left alone,
     * so replicas that fall back never move it back and forth.
     */
    private void fallBack(ActivePointer.Pointer pointer, String why) {
        Fallback before = fallback;
        if (before != null && before.pointerRevision() == pointer.revision()) {
            LOG.debugf("fleet: version %d is still missing: %s", pointer.version(), why);
            return;
        }
        OptionalInt serving = serveNewestLoadable(pointer.version());
        String reason = "the fleet's active version " + pointer.version() + " cannot be loaded: " + why + "; serving "
                + (serving.isPresent() ? "version " + serving.getAsInt() + ", the newest this replica can load," : "nothing")
                + " until it is back or another version is activated";
        fallback = new Fallback(pointer.version(), pointer.revision(), serving, reason);
        LOG.warnf("fleet: %s", reason);
        fleet.replicas().beat();
    }

    /** Swaps in the newest version other than {@code missing} that loads, from this store or the bucket. */
    private OptionalInt serveNewestLoadable(int missing) {
        java.util.TreeSet<Integer> candidates = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
        store.versions().forEach(v -> candidates.add(v.version()));
        try {
            candidates.addAll(fleet.versions().versions(ModelStore.MANIFEST));
        } catch (FleetUnavailableException e) {
            LOG.debugf("fleet: choosing a version to fall back to from this replica's store only: %s", e.getMessage());
        }
        candidates.remove(missing);
        for (int candidate : candidates) {
            OptionalInt now = served.activeVersion();
            if (now.isPresent() && now.getAsInt() == candidate) {
                return now;
            }
            try {
                ensureLocal(candidate);
                served.swap(candidate);
                return OptionalInt.of(candidate);
            } catch (RuntimeException e) {
                LOG.warnf("fleet: cannot fall back to version %d: %s", candidate, e.getMessage());
            }
        }
        return served.activeVersion();
    }

    /**
     * The version from the local store, fetched from the fleet's bucket (and its hashes checked) when missing.
     *
     * @throws ProblemException (unknown-version, 404) when neither this store nor the bucket holds all its files
     * @throws FleetUnavailableException when NATS cannot be reached
     */
    ModelVersion ensureLocal(int number) {
        if (store.holds(number)) {
            return store.version(number);
        }
        requireWholeInBucket(number);
        Path download = store.root().resolve(".tmp-fleet-download-" + number + "-" + UUID.randomUUID());
        try {
            fleet.versions().download(number, ALL_FILES, download);
            return store.importVersion(number, download);
        } catch (RuntimeException e) {
            // The retention may have removed it while it was read: say so rather than "unavailable".
            requireWholeInBucket(number);
            throw e;
        } finally {
            try {
                Durable.deleteTree(download);
            } catch (IOException e) {
                LOG.debugf("fleet: cannot remove %s: %s", download, e.getMessage());
            }
        }
    }

    private void requireWholeInBucket(int number) {
        List<String> missing = fleet.versions().missing(number, ALL_FILES);
        if (missing.contains(ModelStore.MANIFEST) && missing.size() == ALL_FILES.size()) {
            throw new ProblemException(ProblemType.UNKNOWN_VERSION, "version " + number + " not found: expected it in"
                    + " this replica's store or the fleet's version bucket, found neither (the version retention"
                    + " keeps the newest " + store.retain() + " and the active one)");
        }
        if (!missing.isEmpty()) {
            throw new ProblemException(ProblemType.UNKNOWN_VERSION, "version " + number + " not found whole: expected"
                    + " it in this replica's store or all of " + ALL_FILES + " in the fleet's version bucket, found the"
                    + " bucket without " + missing + " (the version retention is removing it, or an upload is under way)");
        }
    }

    /** Uploads what the fleet's bucket lacks of a version this replica holds (all of it when it is not there). */
    private List<String> ensureUploaded(ModelVersion version) {
        return fleet.versions().restore(version.version(), version.dir(), FILES, ModelStore.MANIFEST);
    }

    /**
     * Publishes a round's candidate to the fleet while {@code comparedWith} is still the fleet's
     * active version: a local version numbered above every fleet version, uploaded, then the pointer
     * moved by compare-and-set, then swapped in here (the other replicas follow the pointer).
     *
     * @return the version now served, or empty when the fleet's active version changed since
     */
    public Optional<ModelVersion> promoteOver(int comparedWith, Path candidateDir, Lineage lineage, long throughId) {
        Optional<ActivePointer.Pointer> pointer = fleet.pointer().read();
        if (pointer.isPresent() && pointer.get().version() != comparedWith && !fellBackTo(pointer.get(), comparedWith)) {
            return Optional.empty();
        }
        fleet.versions().highest(ModelStore.MANIFEST).ifPresent(store::reserveNumbersThrough);
        ModelVersion published = store.publish(candidateDir, lineage);
        fleet.versions().upload(published.version(), published.dir(), FILES, ModelStore.MANIFEST);
        long consumed = Math.max(throughId, pointer.map(ActivePointer.Pointer::consumedThrough).orElse(0L));
        if (fleet.pointer().compareAndSet(pointer, published.version(), consumed).isEmpty()) {
            LOG.infof("fleet: version %d was published but not activated: the fleet's active version moved meanwhile",
                    published.version());
            return Optional.empty();
        }
        ModelVersion now = served.swap(published.version());
        fallback = null;
        fleet.replicas().beat();
        retainLater();
        return Optional.of(now);
    }

    /**
     * Whether this replica fell back to {@code version} from the version {@code pointer} names: then a
     * promotion compared with it may move the pointer on, and the fleet converges again.
     */
    private boolean fellBackTo(ActivePointer.Pointer pointer, int version) {
        Fallback now = fallback;
        return now != null && now.pointerRevision() == pointer.revision() && now.serving().isPresent()
                && now.serving().getAsInt() == version;
    }

    /**
     * Moves the fleet's active version to {@code version} (every replica follows) and serves it here.
     *
     * @throws ProblemException (unknown-version, 404) when neither this store nor the fleet's bucket
     *         holds all of it (the version retention removed it); the pointer does not move
     */
    @Override
    public ModelVersion activate(int version) {
        ModelVersion target = ensureLocal(version);
        ensureUploaded(target);
        for (int attempt = 0; attempt < 5; attempt++) {
            Optional<ActivePointer.Pointer> pointer = fleet.pointer().read();
            long consumed = pointer.map(ActivePointer.Pointer::consumedThrough).orElse(0L);
            if (fleet.pointer().compareAndSet(pointer, version, consumed).isPresent()) {
                // A prune that read the pointer before this move may have deleted some of it since:
                // put it back (a delete still in flight is caught by repairTarget).
                reupload(target);
                ModelVersion now = served.swap(version);
                fallback = null;
                fleet.replicas().beat();
                retainLater();
                return now;
            }
        }
        throw new FleetUnavailableException("cannot activate version " + version + ": the fleet's active version kept"
                + " changing under 5 attempts; try again", null);
    }

    /** Applies the retention on the follower thread, off the caller's (a round's or a request's). */
    private void retainLater() {
        try {
            follower.execute(this::retainFleet);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debugf("fleet: closing, the version retention waits for the next promotion or activation");
        }
    }

    private void reupload(ModelVersion version) {
        try {
            List<String> uploaded = ensureUploaded(version);
            if (!uploaded.isEmpty()) {
                LOG.infof("fleet: put %s of version %d back into the fleet's bucket: the fleet's active version must"
                        + " stay there", uploaded, version.version());
            }
        } catch (RuntimeException e) {
            LOG.warnf("fleet: cannot check that the fleet still holds version %d: %s", version.version(), e.getMessage());
        }
    }

    /**
     * Puts back what the fleet's bucket lacks of the version the pointer names, when this replica
     * holds it: the repair for a prune's delete that landed after the pointer moved to its version.
     * Runs after each prune and every {@value #REPAIR_MILLIS} ms; quiet while NATS is away.
     */
    void repairTarget() {
        try {
            OptionalInt target = fleetActive();
            if (target.isPresent() && store.holds(target.getAsInt())) {
                reupload(store.version(target.getAsInt()));
            }
        } catch (RuntimeException e) {
            LOG.debugf("fleet: cannot check the fleet's active version: %s", e.getMessage());
        }
    }

    /**
     * Applies the store's retention ({@code microkernel.store.retain}) to the fleet's version bucket,
     * after this replica moved the pointer: the newest versions and the active one stay, so every
     * rollback target a single node would keep stays too, and the version the pointer names is
     * spared even when it moves during the prune ({@link VersionBucket#prune}). Then this replica
     * repairs the pointer's version when it holds it, and its cache follows.
     */
    private void retainFleet() {
        try {
            int retain = store.retain();
            List<Integer> removed = fleet.versions().prune(retain, this::fleetActive, ModelStore.MANIFEST);
            if (!removed.isEmpty()) {
                LOG.infof("fleet: removed versions %s from the fleet: only the last %d versions and the active one are"
                        + " retained", removed, retain);
            }
            repairTarget();
            retainCache(fleetActive());
        } catch (RuntimeException e) {
            LOG.warnf("fleet: cannot apply the version retention to the fleet (next promotion or activation tries"
                    + " again): %s", e.getMessage());
        }
    }

    /** Drops from the local store the versions the fleet's retention dropped ({@link VersionBucket#droppedFromCache}). */
    private void retainCache(OptionalInt fleetActive) {
        try {
            List<Integer> cached = store.versions().stream().map(ModelVersion::version).toList();
            List<Integer> dropped = VersionBucket.droppedFromCache(cached, served.activeVersion(),
                    fleet.versions().versions(ModelStore.MANIFEST), store.retain(), fleetActive);
            for (int number : dropped) {
                store.discardVersion(number);
            }
        } catch (RuntimeException e) {
            LOG.warnf("fleet: cannot apply the fleet's version retention to this replica's store: %s", e.getMessage());
        }
    }

    private OptionalInt fleetActive() {
        return fleet.pointer().read().map(p -> OptionalInt.of(p.version())).orElse(OptionalInt.empty());
    }

    @Override
    public void close() {
        follower.shutdownNow();
    }
}
