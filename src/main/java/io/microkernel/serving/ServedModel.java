package io.microkernel.serving;

import io.microkernel.store.Lineage;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import io.microkernel.tensor.NamedTensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * The model that answers requests, and the only way to change which version that is.
 *
 * <p>Hot-swap protocol: {@link #swap} builds the new version's session and warms it with a real
 * input, writes {@code ACTIVE} in the store, flips an {@link AtomicReference} to it, and then drops
 * the reference it held on the old version. Requests acquire the current {@link LoadedModel} and
 * release it in one try/finally ({@link #withModel}); the old session is closed by whichever
 * request releases it last. No request ever sees a closed session, and none waits for a swap.
 *
 * <p>Requests for a retained version that is not active ({@code /versions/{v}/infer}) load it on
 * demand and keep the two most recently used such versions loaded.
 *
 * <p>Thread-safe. Requests never block each other; swaps are serialised among themselves.
 */
public final class ServedModel implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ServedModel.class);
    private static final int PINNED_VERSIONS = 2;

    private final String name;
    private final ModelStore store;
    private final ModelLoader loader;
    private final ServingMetrics metrics;
    private final AtomicReference<LoadedModel> current = new AtomicReference<>();
    private final Object swapLock = new Object();
    /** Loaded non-active versions, least recently used first; guarded by itself. */
    private final LinkedHashMap<Integer, LoadedModel> pinned = new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, LoadedModel> eldest) {
            if (size() > PINNED_VERSIONS) {
                eldest.getValue().release();
                return true;
            }
            return false;
        }
    };
    private volatile boolean closed;

    public ServedModel(String name, ModelStore store, ModelLoader loader, ServingMetrics metrics) {
        this.name = name;
        this.store = store;
        this.loader = loader;
        this.metrics = metrics;
    }

    /** The model name in the HTTP paths. */
    public String name() {
        return name;
    }

    public ModelStore store() {
        return store;
    }

    /** True while a version is loaded and answering. */
    public boolean isReady() {
        return current.get() != null && !closed;
    }

    /** The version answering requests now, if any. */
    public OptionalInt activeVersion() {
        LoadedModel model = current.get();
        return model == null ? OptionalInt.empty() : OptionalInt.of(model.version());
    }

    /**
     * Loads the store's active version. When it cannot be loaded, falls back to the newest retained
     * version that can, activates that one and logs why.
     *
     * @return the version now served
     * @throws ModelNotReadyException when the store holds no version
     * @throws ModelLoadException when no retained version loads
     */
    public ModelVersion start() {
        synchronized (swapLock) {
            ModelVersion active = store.active().orElseThrow(() -> new ModelNotReadyException(
                    "model '" + name + "' has no version: expected a bootstrapped store in " + store.root() + ", found none"));
            List<ModelVersion> candidates = new ArrayList<>();
            candidates.add(active);
            List<ModelVersion> newestFirst = new ArrayList<>(store.versions());
            java.util.Collections.reverse(newestFirst);
            newestFirst.stream().filter(v -> v.version() != active.version()).forEach(candidates::add);
            List<String> failures = new ArrayList<>();
            for (ModelVersion candidate : candidates) {
                LoadedModel loaded;
                try {
                    loaded = loader.load(candidate);
                } catch (ModelLoadException e) {
                    metrics.loadFailed();
                    LOG.errorf("cannot serve version %d of %s: %s", candidate.version(), name, e.getMessage());
                    failures.add(candidate.version() + ": " + e.getMessage());
                    continue;
                }
                if (candidate.version() != active.version()) {
                    LOG.warnf("serving version %d of %s, the newest version that loads, because active version %d does not load",
                            candidate.version(), name, active.version());
                    store.activate(candidate.version());
                }
                LoadedModel previous = current.getAndSet(loaded);
                if (previous != null) {
                    previous.release();
                }
                metrics.activeVersion(candidate.version());
                LOG.infof("serving version %d of %s", candidate.version(), name);
                return candidate;
            }
            throw new ModelLoadException("model '" + name + "': no retained version loads (" + String.join("; ", failures) + ")");
        }
    }

    /**
     * Runs {@code work} on the active version (or on {@code version} when given), holding a
     * reference for exactly the duration of the call.
     *
     * @throws ModelNotReadyException when no version is loaded
     * @throws io.microkernel.store.VersionNotFoundException when {@code version} is not retained
     */
    public <T> T withModel(OptionalInt version, Function<LoadedModel, T> work) {
        LoadedModel model = acquire(version);
        try {
            return work.apply(model);
        } finally {
            model.release();
        }
    }

    /**
     * Validates and runs one request: {@code translate} turns the request into inputs for the
     * signature of the version that will answer, so validation and the run see the same version.
     * Latency is recorded by version and outcome.
     */
    public Prediction predict(OptionalInt version, Function<ModelSignature, List<NamedTensor>> translate) {
        long start = System.nanoTime();
        String versionTag = "none";
        ServingMetrics.Outcome outcome = ServingMetrics.Outcome.ERROR;
        try {
            LoadedModel model = acquire(version);
            try {
                versionTag = Integer.toString(model.version());
                Prediction prediction = model.run(translate.apply(model.signature()));
                outcome = ServingMetrics.Outcome.OK;
                return prediction;
            } finally {
                model.release();
            }
        } catch (InputValidationException | io.microkernel.store.VersionNotFoundException e) {
            outcome = ServingMetrics.Outcome.INVALID;
            throw e;
        } catch (ModelNotReadyException e) {
            outcome = ServingMetrics.Outcome.UNAVAILABLE;
            throw e;
        } finally {
            metrics.recordInference(versionTag, outcome, System.nanoTime() - start);
        }
    }

    /** The signature of the active version, if one is loaded. */
    public Optional<ModelSignature> signature() {
        try {
            return Optional.of(withModel(OptionalInt.empty(), LoadedModel::signature));
        } catch (ModelNotReadyException e) {
            return Optional.empty();
        }
    }

    /**
     * Makes {@code version} the one that answers: load and warm it, write {@code ACTIVE}, flip,
     * then let the old version close once its last request is done. Requests in flight finish on
     * the version they started with. Use it for rollbacks, roll-forwards and promotions.
     *
     * @return the version now served
     * @throws io.microkernel.store.VersionNotFoundException when the store does not hold it
     * @throws ModelLoadException when it does not load; the served version does not change
     */
    public ModelVersion swap(int version) {
        synchronized (swapLock) {
            if (closed) {
                throw new ModelNotReadyException("model '" + name + "' is shutting down: expected a running server, found it stopping");
            }
            ModelVersion target = store.version(version);
            LoadedModel previous = current.get();
            if (previous != null && previous.version() == version) {
                store.activate(version);
                return target;
            }
            LoadedModel next;
            try {
                next = loader.load(target);
            } catch (ModelLoadException e) {
                metrics.loadFailed();
                throw e;
            }
            try {
                store.activate(version);
            } catch (RuntimeException e) {
                next.release();
                throw e;
            }
            current.set(next);
            metrics.activeVersion(version);
            metrics.swapped();
            if (previous != null) {
                previous.release();
            }
            LOG.infof("serving version %d of %s (was %s)", version, name,
                    previous == null ? "none" : Integer.toString(previous.version()));
            return target;
        }
    }

    /**
     * Publishes a candidate folder ({@code checkpoint} and {@code inference.onnx}) as a new version
     * with its lineage and swaps it in. When the swap fails the version stays published but not
     * active, and the exception says why.
     */
    public ModelVersion promote(Path candidateDir, Lineage lineage) {
        ModelVersion published = store.publish(candidateDir, lineage);
        return swap(published.version());
    }

    /** Releases every loaded version; sessions close as soon as their last request is done. Idempotent. */
    @Override
    public void close() {
        synchronized (swapLock) {
            if (closed) {
                return;
            }
            closed = true;
            LoadedModel last = current.getAndSet(null);
            if (last != null) {
                last.release();
            }
            synchronized (pinned) {
                pinned.values().forEach(LoadedModel::release);
                pinned.clear();
            }
            metrics.activeVersion(0);
        }
    }

    private LoadedModel acquire(OptionalInt version) {
        while (true) {
            LoadedModel model = current.get();
            if (model == null) {
                throw new ModelNotReadyException("model '" + name + "' is not ready: expected a loaded version, found none");
            }
            if (version.isPresent() && model.version() != version.getAsInt()) {
                return acquirePinned(version.getAsInt());
            }
            if (model.tryAcquire()) {
                return model;
            }
            // A swap released this model after we read it; the reference already points at its successor.
        }
    }

    private LoadedModel acquirePinned(int version) {
        synchronized (pinned) {
            if (closed) {
                throw new ModelNotReadyException("model '" + name + "' is shutting down: expected a running server, found it stopping");
            }
            LoadedModel model = pinned.get(version);
            if (model != null && model.tryAcquire()) {
                return model;
            }
            ModelVersion stored = store.version(version);
            try {
                model = loader.load(stored);
            } catch (ModelLoadException e) {
                metrics.loadFailed();
                throw e;
            }
            model.tryAcquire();
            LoadedModel replaced = pinned.put(version, model);
            if (replaced != null) {
                replaced.release();
            }
            return model;
        }
    }
}
