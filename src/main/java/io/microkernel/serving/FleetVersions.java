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
 * <p>Thread-safe: following runs on one thread; promotions and activations may come from any.
 */
public final class FleetVersions implements VersionActivation, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(FleetVersions.class);
    private static final List<String> FILES = List.of(ModelStore.CHECKPOINT, ModelStore.INFERENCE_MODEL);
    private static final long RETRY_MILLIS = 2000;

    private final Fleet fleet;
    private final ServedModel served;
    private final ModelStore store;
    private final ScheduledExecutorService follower = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "fleet-version-follower");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicReference<ActivePointer.Pointer> wanted = new AtomicReference<>();
    private volatile LongConsumer onConsumed = id -> { };

    public FleetVersions(Fleet fleet, ServedModel served) {
        this.fleet = fleet;
        this.served = served;
        this.store = served.store();
    }

    /** Starts following the pointer (and sets it from the local active version when no replica has). */
    public void start() {
        fleet.connection().onReconnect(() -> follower.execute(this::seedPointer));
        fleet.pointer().follow(this::pointerMoved);
        if (fleet.connection().isConnected()) {
            follower.execute(this::seedPointer);
        }
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
            return;
        }
        try {
            ensureLocal(pointer.version());
            served.swap(pointer.version());
            LOG.infof("fleet: now serving the fleet's active version %d", pointer.version());
            fleet.replicas().beat();
            retainCache(OptionalInt.of(pointer.version()));
        } catch (RuntimeException e) {
            LOG.warnf("fleet: cannot serve the fleet's active version %d yet (retrying in %d ms): %s",
                    pointer.version(), RETRY_MILLIS, e.getMessage());
            follower.schedule(() -> {
                wanted.compareAndSet(null, pointer);
                follow();
            }, RETRY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** The version from the local store, fetched from the fleet's bucket (and its hashes checked) when missing. */
    ModelVersion ensureLocal(int number) {
        if (store.holds(number)) {
            return store.version(number);
        }
        if (!fleet.versions().holds(number, ModelStore.MANIFEST)) {
            throw new ProblemException(ProblemType.UNKNOWN_VERSION, "version " + number + " not found: expected it in"
                    + " this replica's store or the fleet's version bucket, found neither");
        }
        Path download = store.root().resolve(".tmp-fleet-download-" + number + "-" + UUID.randomUUID());
        try {
            fleet.versions().download(number, List.of(ModelStore.CHECKPOINT, ModelStore.INFERENCE_MODEL,
                    ModelStore.MANIFEST), download);
            return store.importVersion(number, download);
        } finally {
            try {
                Durable.deleteTree(download);
            } catch (IOException e) {
                LOG.debugf("fleet: cannot remove %s: %s", download, e.getMessage());
            }
        }
    }

    private void ensureUploaded(ModelVersion version) {
        if (!fleet.versions().holds(version.version(), ModelStore.MANIFEST)) {
            fleet.versions().upload(version.version(), version.dir(), FILES, ModelStore.MANIFEST);
        }
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
        if (pointer.isPresent() && pointer.get().version() != comparedWith) {
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
        fleet.replicas().beat();
        retainLater();
        return Optional.of(now);
    }

    /** Moves the fleet's active version to {@code version} (every replica follows) and serves it here. */
    @Override
    public ModelVersion activate(int version) {
        ModelVersion target = ensureLocal(version);
        ensureUploaded(target);
        for (int attempt = 0; attempt < 5; attempt++) {
            Optional<ActivePointer.Pointer> pointer = fleet.pointer().read();
            long consumed = pointer.map(ActivePointer.Pointer::consumedThrough).orElse(0L);
            if (fleet.pointer().compareAndSet(pointer, version, consumed).isPresent()) {
                // A prune that read the pointer before this move may have removed the version since: put it back.
                reupload(target);
                ModelVersion now = served.swap(version);
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
            ensureUploaded(version);
        } catch (RuntimeException e) {
            LOG.warnf("fleet: cannot check that the fleet still holds version %d: %s", version.version(), e.getMessage());
        }
    }

    /**
     * Applies the store's retention ({@code microkernel.store.retain}) to the fleet's version bucket,
     * after this replica moved the pointer: the newest versions and the active one stay, so every
     * rollback target a single node would keep stays too. A pointer moved meanwhile to a version just
     * removed gets it back from this replica's store when it has it (the mover checks too). Then
     * this replica's cache follows.
     */
    private void retainFleet() {
        try {
            int retain = store.retain();
            List<Integer> removed = fleet.versions().prune(retain, fleetActive(), ModelStore.MANIFEST);
            if (!removed.isEmpty()) {
                LOG.infof("fleet: removed versions %s from the fleet: only the last %d versions and the active one are"
                        + " retained", removed, retain);
                OptionalInt now = fleetActive();
                if (now.isPresent() && removed.contains(now.getAsInt()) && store.holds(now.getAsInt())) {
                    ensureUploaded(store.version(now.getAsInt()));
                }
            }
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
