package io.microkernel.serving;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>With {@code microkernel.serving.batching.enabled}, concurrent requests go through a
 * {@link DynamicBatcher}, which this class owns and closes: a request may then wait for (and share)
 * a run, never for a swap.
 *
 * <p>It also counts the serving work in flight ({@link #requestsInFlight()}): every {@link #predict}
 * and {@link #predictAsync} until it is answered, and every HTTP inference request the HTTP layer
 * marks with {@link #requestArrived()} until its answer ends. Training rounds read the count to
 * give way to serving ({@code training.ServingYield}).
 *
 * <p>Thread-safe. Requests never block each other, except by waiting for a shared run; swaps are
 * serialised among themselves.
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
    private volatile String notReadyReason;
    /**
     * Non-active versions, loaded or loading, least recently used first; guarded by itself. A value
     * is the load's future, so a version loads outside the lock and requests for other versions do
     * not wait for it. The map holds one reference on each model it has loaded.
     */
    private final LinkedHashMap<Integer, CompletableFuture<LoadedModel>> pinned = new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, CompletableFuture<LoadedModel>> eldest) {
            if (size() > PINNED_VERSIONS) {
                // A load still running sees that it was evicted and drops the map's reference itself.
                loadedNow(eldest.getValue()).ifPresent(ServedModel.this::release);
                return true;
            }
            return false;
        }
    };
    private volatile boolean closed;
    private final DynamicBatcher batcher;
    private final AtomicInteger inFlight = new AtomicInteger();

    /** A served model that runs every request on its own. */
    public ServedModel(String name, ModelStore store, ModelLoader loader, ServingMetrics metrics) {
        this(name, store, loader, metrics, BatchingSettings.OFF);
    }

    /** A served model that gathers concurrent requests as {@code batching} says ({@link DynamicBatcher}). */
    public ServedModel(String name, ModelStore store, ModelLoader loader, ServingMetrics metrics, BatchingSettings batching) {
        this.name = name;
        this.store = store;
        this.loader = loader;
        this.metrics = metrics;
        this.batcher = new DynamicBatcher(name, batching, metrics::ranBatch);
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

    /** Why no version is served yet, as start-up last found it; empty once one is (or before start-up said). */
    public Optional<String> notReadyReason() {
        return isReady() ? Optional.empty() : Optional.ofNullable(notReadyReason);
    }

    /** Start-up records why it could not serve (it retries); readiness and metadata repeat it. */
    public void notReady(String reason) {
        notReadyReason = reason;
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
                    loaded = load(candidate);
                } catch (ModelLoadException e) {
                    LOG.errorf("cannot serve version %d of %s: %s", candidate.version(), name, e.getMessage());
                    failures.add(candidate.version() + ": " + e.getMessage());
                    continue;
                }
                if (candidate.version() != active.version()) {
                    LOG.warnf("serving version %d of %s, the newest version that loads, because active version %d does not load",
                            candidate.version(), name, active.version());
                    try {
                        store.activate(candidate.version());
                    } catch (RuntimeException e) {
                        release(loaded);
                        throw e;
                    }
                }
                LoadedModel previous = current.getAndSet(loaded);
                if (previous != null) {
                    release(previous);
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
     * @throws ProblemException (unknown-version) when {@code version} is not retained
     */
    public <T> T withModel(OptionalInt version, Function<LoadedModel, T> work) {
        LoadedModel model = acquire(version);
        try {
            return work.apply(model);
        } finally {
            release(model);
        }
    }

    /**
     * Validates and runs one request: {@code translate} turns the request into inputs for the
     * signature of the version that will answer, so validation and the run see the same version.
     * Latency is recorded by version and outcome.
     */
    public Prediction predict(OptionalInt version, Function<ModelSignature, List<NamedTensor>> translate) {
        inFlight.incrementAndGet();
        try {
            return predictCounted(version, translate);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private Prediction predictCounted(OptionalInt version, Function<ModelSignature, List<NamedTensor>> translate) {
        long start = System.nanoTime();
        LoadedModel model = acquireRecorded(version, start);
        ServingMetrics.Outcome outcome = ServingMetrics.Outcome.ERROR;
        try {
            Prediction prediction = batcher.run(model, translate.apply(model.signature()));
            outcome = ServingMetrics.Outcome.OK;
            return prediction;
        } catch (RuntimeException e) {
            outcome = outcomeOf(e);
            throw e;
        } finally {
            // Recorded before the release: the version's timers exist while a reference is held.
            metrics.recordInference(OptionalInt.of(model.version()), outcome, System.nanoTime() - start);
            release(model);
        }
    }

    /**
     * Like {@link #predict}, without waiting for the run: for callers that must not block (an HTTP
     * event loop). A request that may be gathered with others ({@link #gathers}) and whose run the
     * version's recent runs say takes at most {@code runHereNanos} is short: it runs on the calling
     * thread when nothing else is running or queued, and a batch it leads runs on {@code callerLoop}.
     * A longer one runs, alone or leading a batch, on {@code workers}. A request that waits in the
     * queue is answered from the thread that ran its batch, which completes the returned stage. A
     * request that cannot be gathered runs on the calling thread. The version's reference is held
     * until the stage completes; failures to acquire, translate or run complete the stage
     * exceptionally with the same exceptions {@link #predict} throws.
     *
     * @param callerLoop runs tasks later on the calling thread's own loop (an HTTP event loop)
     * @param workers    runs tasks on threads that may block for a long run
     */
    public CompletableFuture<Prediction> predictAsync(OptionalInt version, Function<ModelSignature, List<NamedTensor>> translate,
            long runHereNanos, Executor callerLoop, Executor workers) {
        long start = System.nanoTime();
        LoadedModel model;
        try {
            model = acquireRecorded(version, start);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        inFlight.incrementAndGet();
        CompletableFuture<Prediction> answer;
        try {
            List<NamedTensor> inputs = translate.apply(model.signature());
            int rows = DynamicBatcher.rows(inputs);
            long perRow = model.typicalRowNanos();
            boolean shortRun = perRow > 0 && rows > 0 && perRow * rows <= runHereNanos;
            answer = batcher.submit(model, inputs, shortRun ? callerLoop : workers, shortRun);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Prediction> answered = new CompletableFuture<>();
        answer.whenComplete((prediction, failure) -> {
            inFlight.decrementAndGet();
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            ServingMetrics.Outcome outcome = cause == null ? ServingMetrics.Outcome.OK
                    : cause instanceof RuntimeException runtime ? outcomeOf(runtime) : ServingMetrics.Outcome.ERROR;
            try {
                try {
                    // Recorded before the release: the version's timers exist while a reference is held.
                    metrics.recordInference(OptionalInt.of(model.version()), outcome, System.nanoTime() - start);
                } finally {
                    release(model);
                }
            } finally {
                if (cause == null) {
                    answered.complete(prediction);
                } else {
                    answered.completeExceptionally(cause);
                }
            }
        });
        return answered;
    }

    /** {@link #acquire}, recording a failure to acquire as a request that ended at once, with no version. */
    private LoadedModel acquireRecorded(OptionalInt version, long start) {
        try {
            return acquire(version);
        } catch (RuntimeException e) {
            metrics.recordInference(OptionalInt.empty(), outcomeOf(e), System.nanoTime() - start);
            throw e;
        }
    }

    /**
     * Whether a request of {@code rows} rows on the active version would go through the dynamic
     * batcher (batching on, a model whose first dimension is a dynamic batch, at most the most rows
     * a batch takes); such requests are best sent through {@link #predictAsync}.
     */
    public boolean gathers(int rows) {
        LoadedModel model = current.get();
        return model != null && batcher.gathers(model, rows);
    }

    /**
     * Whether a request of {@code rows} rows on the active version is expected to run within
     * {@code nanos}, judged by the version's recent runs, and would not wait for a batch: such a
     * request costs less run where it arrived than handed to another thread. False while no
     * version is loaded, before it has run, and when the batcher may gather the request.
     */
    public boolean runsWithin(int rows, long nanos) {
        LoadedModel model = current.get();
        if (model == null || rows < 1 || batcher.settings().enabled() && model.batchable()) {
            return false;
        }
        long perRow = model.typicalRowNanos();
        return perRow > 0 && perRow * rows <= nanos;
    }

    /**
     * Serving work in flight now: predictions not yet answered, plus HTTP inference requests
     * between {@link #requestArrived()} and {@link #requestEnded()}. Zero when serving is idle.
     */
    public int requestsInFlight() {
        return inFlight.get();
    }

    /** An inference request arrived over HTTP; pair with exactly one {@link #requestEnded()} when its answer ends. */
    public void requestArrived() {
        inFlight.incrementAndGet();
    }

    /** The answer to a request {@link #requestArrived()} counted has ended (or its connection closed). */
    public void requestEnded() {
        inFlight.decrementAndGet();
    }

    /** The batcher every {@link #predict} goes through; for tests and diagnostics in this package. */
    DynamicBatcher batcher() {
        return batcher;
    }

    /** Bad input and unknown versions are {@code invalid}, no model {@code unavailable}, the rest {@code error}. */
    private static ServingMetrics.Outcome outcomeOf(RuntimeException e) {
        if (e instanceof InputValidationException
                || e instanceof ProblemException problem && problem.type() == ProblemType.UNKNOWN_VERSION) {
            return ServingMetrics.Outcome.INVALID;
        }
        return e instanceof ModelNotReadyException ? ServingMetrics.Outcome.UNAVAILABLE : ServingMetrics.Outcome.ERROR;
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
     * @throws ProblemException (unknown-version) when the store does not hold it
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
            LoadedModel next = load(target);
            try {
                store.activate(version);
            } catch (RuntimeException e) {
                release(next);
                throw e;
            }
            current.set(next);
            metrics.activeVersion(version);
            metrics.swapped();
            if (previous != null) {
                release(previous);
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

    /**
     * Promotes a candidate only while {@code comparedWith} is still the active version: the check,
     * the publish and the swap happen under the swap lock, so an operator's activation lands either
     * before (and the candidate is not published) or after (and overrides the promotion).
     *
     * @return the version now served, or empty when another version became active since
     */
    public Optional<ModelVersion> promoteOver(int comparedWith, Path candidateDir, Lineage lineage) {
        synchronized (swapLock) {
            OptionalInt now = store.activeNumber();
            if (now.isEmpty() || now.getAsInt() != comparedWith) {
                return Optional.empty();
            }
            return Optional.of(promote(candidateDir, lineage));
        }
    }

    /** Releases every loaded version; sessions close as soon as their last request is done. Idempotent. */
    @Override
    public void close() {
        synchronized (swapLock) {
            if (closed) {
                return;
            }
            closed = true;
            batcher.close();
            LoadedModel last = current.getAndSet(null);
            if (last != null) {
                release(last);
            }
            synchronized (pinned) {
                pinned.values().forEach(future -> loadedNow(future).ifPresent(this::release));
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

    /**
     * A reference on a retained, non-active version, loading it when no request has yet. The load
     * runs outside the map's lock: one request loads, requests for the same version wait for that
     * load, and requests for other versions go on.
     */
    private LoadedModel acquirePinned(int version) {
        while (true) {
            CompletableFuture<LoadedModel> loading;
            ModelVersion toLoad = null;
            synchronized (pinned) {
                if (closed) {
                    throw new ModelNotReadyException("model '" + name + "' is shutting down: expected a running server, found it stopping");
                }
                if (!store.holds(version)) {
                    // Retention removed it: drop what is loaded (requests in flight keep their reference) and say 404.
                    CompletableFuture<LoadedModel> gone = pinned.remove(version);
                    if (gone != null) {
                        loadedNow(gone).ifPresent(this::release);
                    }
                    store.version(version);
                }
                loading = pinned.get(version);
                if (loading == null) {
                    toLoad = store.version(version);
                    loading = new CompletableFuture<>();
                    pinned.put(version, loading);
                }
            }
            if (toLoad != null) {
                return loadPinned(version, toLoad, loading);
            }
            LoadedModel model = join(loading);
            if (model.tryAcquire()) {
                return model;
            }
            // Evicted and closed after it loaded; the map no longer holds it, so the next pass loads it anew.
        }
    }

    /**
     * Loads the version of a pinned slot this thread created, outside the lock. Returns the caller's
     * reference; the model's first reference is the map's, dropped here when the slot was evicted or
     * the model closed while it loaded.
     */
    private LoadedModel loadPinned(int version, ModelVersion stored, CompletableFuture<LoadedModel> slot) {
        LoadedModel model;
        try {
            model = load(stored);
        } catch (RuntimeException e) {
            synchronized (pinned) {
                pinned.remove(version, slot);
            }
            slot.completeExceptionally(e);
            throw e;
        }
        model.tryAcquire();
        boolean kept;
        synchronized (pinned) {
            // Completed under the lock, so eviction and close() see either a running load or this model, never both.
            slot.complete(model);
            kept = pinned.get(version) == slot;
        }
        if (!kept) {
            release(model);
        }
        return model;
    }

    private static LoadedModel join(CompletableFuture<LoadedModel> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** The model of a finished, successful load, if this one is. */
    private static Optional<LoadedModel> loadedNow(CompletableFuture<LoadedModel> future) {
        return future.isDone() && !future.isCompletedExceptionally() ? Optional.of(future.join()) : Optional.empty();
    }

    /** Loads and warms a version and registers its meters; the result holds one reference, the caller's. */
    private LoadedModel load(ModelVersion version) {
        LoadedModel model;
        try {
            model = loader.load(version);
        } catch (ModelLoadException e) {
            metrics.loadFailed();
            throw e;
        }
        metrics.versionLoaded(model.version());
        return model;
    }

    /** Drops a reference; the one that closes the session also removes the version's meters. */
    private void release(LoadedModel model) {
        if (model.release()) {
            metrics.versionClosed(model.version());
        }
    }
}
