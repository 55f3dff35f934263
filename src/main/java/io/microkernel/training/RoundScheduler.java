package io.microkernel.training;

import io.microkernel.training.features.FeatureCache;
import io.microkernel.store.Durable;
import ai.onnxruntime.OrtEnvironment;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.serving.ServedModel;
import io.microkernel.store.Lineage;
import io.microkernel.store.ModelVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Starts training rounds (on request, after {@code min-new-samples} new samples, or every
 * {@code interval} when there are new samples), runs them one at a time on a dedicated thread,
 * records each step in {@link RoundRecords}, and promotes a candidate the gate accepts: publish it
 * into the store with its lineage, swap it into serving, and mark its samples as learned.
 *
 * <p>Only one round exists at a time, queued or running; a second trigger gets a
 * {@link RoundConflictException} naming the running round. Cancelling sets a flag the round checks
 * between steps.
 *
 * <p>Thread-safe. {@link #close()} cancels a running round and waits for its thread.
 */
public final class RoundScheduler implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RoundScheduler.class);

    /**
     * What the scheduler needs to know from configuration.
     *
     * @param defaults      the training settings a round uses unless a request overrides them
     * @param threads       ORT intra-op threads of a round ({@code microkernel.training.threads})
     * @param minNewSamples start a round when this many samples arrived since the last one (0 = never)
     * @param workRoot      where rounds keep their temporary files; cleared at start-up
     */
    public record Options(RoundSettings defaults, int threads, int minNewSamples, Path workRoot) {
    }

    /** The round in flight, and its cancel flag. */
    private record Active(long id, AtomicBoolean cancel, AtomicReference<RoundRecord> record) {
    }

    private final String model;
    private final Supplier<OrtEnvironment> env;
    private final Supplier<ArtifactSet> artifacts;
    private final ServedModel served;
    private final SampleJournal journal;
    private final RoundRecords records;
    private final PromotionGate gate;
    private final Options options;
    private final TrainingMetrics metrics;
    private final ExecutorService executor;
    private final Object lock = new Object();
    private Active active;
    private boolean closed;
    private volatile Runnable beforePromotion = () -> { };
    private volatile FeatureCache featureCache;
    private volatile int roundNice;
    /** Serving's in-flight requests, which rounds give way to; null when rounds do not yield. */
    private volatile IntSupplier servingInFlight;
    private volatile Duration yieldMaxWait = Duration.ZERO;
    /** The nice value the round thread was last set to (only the round thread reads and writes it). */
    private int roundThreadNice;
    private volatile FeedbackLedger feedback = FeedbackLedger.NONE;
    private volatile Supplier<Optional<TrainingRound.ReferenceGuard>> reference = Optional::empty;
    private volatile RoundRouting routing = RoundRouting.LOCAL;
    private volatile VersionPromoter promoter;

    public RoundScheduler(String model, Supplier<OrtEnvironment> env, Supplier<ArtifactSet> artifacts,
            ServedModel served, SampleJournal journal, RoundRecords records, PromotionGate gate, Options options,
            TrainingMetrics metrics) {
        this.model = model;
        this.env = env;
        this.artifacts = artifacts;
        this.served = served;
        this.journal = journal;
        this.records = records;
        this.gate = gate;
        this.options = options;
        this.metrics = metrics;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "training-round-" + model);
            thread.setDaemon(true);
            // Serving threads come first when the cores are busy.
            thread.setPriority(Thread.NORM_PRIORITY - 1);
            return thread;
        });
        deleteRecursively(options.workRoot());
        reconcileInterruptedRounds();
        this.promoter = (comparedWith, candidateDir, lineage, throughId) ->
                served.promoteOver(comparedWith, candidateDir, lineage);
    }

    /** Fleet mode: where rounds run (the trainer lease's holder) and how a promotion reaches the fleet. */
    public void useFleet(RoundRouting routing, VersionPromoter promoter) {
        this.routing = routing;
        this.promoter = promoter;
    }

    /**
     * Rounds started from now on train on cached frozen features where the artifact set can be cut
     * ({@link TrainingRound#useFeatureCache}); null turns that off.
     */
    public RoundScheduler useFeatureCache(FeatureCache cache) {
        this.featureCache = cache;
        return this;
    }

    /**
     * Rounds run at this Linux nice value (1 to 19; 0 = as the process), so serving gets the cores
     * first; see {@link RoundThreadPriority}.
     */
    public RoundScheduler useRoundNice(int nice) {
        this.roundNice = nice;
        return this;
    }

    /**
     * Rounds started from now on wait, between units of their work and before promoting, while
     * {@code inFlight} says serving has requests in flight, at most {@code maxWait} each time
     * ({@link ServingYield}); the time waited goes to {@link TrainingMetrics#roundYielded}.
     */
    public RoundScheduler useServingYield(IntSupplier inFlight, Duration maxWait) {
        this.yieldMaxWait = maxWait;
        this.servingInFlight = inFlight;
        return this;
    }

    /**
     * A process stopped between publishing a round's version and saving its final record leaves the
     * round "failed, process stopped" although its version exists. The version's lineage names the
     * round: when that version is active the round did promote, so say so and mark its samples
     * learned; when it is not, keep the round failed but name the version it left behind.
     */
    private void reconcileInterruptedRounds() {
        io.microkernel.store.ModelStore store = served.store();
        java.util.OptionalInt activeVersion = store.activeNumber();
        // Each kept version names the round that made it; only those rounds can have left one behind.
        for (ModelVersion left : store.versions()) {
            Optional<RoundRecord> found = roundOf(left);
            if (found.isEmpty() || found.get().state() != RoundState.FAILED
                    || !RoundRecords.INTERRUPTED_CAUSE.equals(found.get().cause())) {
                continue;
            }
            RoundRecord round = found.get();
            int version = left.version();
            if (activeVersion.isPresent() && activeVersion.getAsInt() == version) {
                records.save(round.promotedBeforeStop(version, RoundRecords.INTERRUPTED_CAUSE
                        + " after publishing and activating version " + version));
                if (round.samples() != null) {
                    journal.markConsumed(round.samples().throughId());
                }
                LOG.infof("round %d promoted version %d before the process stopped; its record now says so",
                        round.id(), version);
            } else {
                records.save(round.withCause(RoundRecords.INTERRUPTED_CAUSE + " after publishing version " + version
                        + ", which was not activated"));
            }
        }
    }

    /** The round a version's lineage names, when it names one that is recorded here. */
    private Optional<RoundRecord> roundOf(ModelVersion version) {
        String roundId = version.lineage() == null ? null : version.lineage().roundId();
        if (roundId == null || !roundId.matches("[1-9][0-9]{0,17}")) {
            return Optional.empty();
        }
        return records.find(Long.parseLong(roundId));
    }

    /** What the model takes and learns, from its artifact set (read when first asked). */
    public io.microkernel.artifacts.ArtifactDescription description() {
        return artifacts.get().description();
    }

    /** The labels the model accepts. */
    public LabelDomain labelDomain() {
        return new LabelDomain(description());
    }

    public SampleJournal journal() {
        return journal;
    }

    public RoundRecords records() {
        return records;
    }

    /** The round queued or running now, if any. */
    public Optional<RoundRecord> current() {
        synchronized (lock) {
            return active == null ? Optional.empty() : Optional.of(active.record().get());
        }
    }

    /**
     * Queues a round and returns its record.
     *
     * @param trigger {@code manual}, {@code min-new-samples} or {@code interval}
     * @throws RoundConflictException      when a round is queued or running, or the samples cannot make a round
     * @throws io.microkernel.serving.ModelNotReadyException when no version is served to train from
     * @throws ProblemException (invalid-round-request) when an override is out of range
     */
    public RoundRecord start(String trigger, RoundOverrides overrides) {
        if (!routing.trainsHere()) {
            return routing.forward(trigger, overrides);
        }
        RoundSettings settings = overrides.applyTo(options.defaults());
        synchronized (lock) {
            if (closed) {
                throw new RoundConflictException("the server is shutting down: expected a running server, found it stopping",
                        null);
            }
            if (served.activeVersion().isEmpty()) {
                throw new io.microkernel.serving.ModelNotReadyException("model '" + model
                        + "' is not ready: expected a served version to train from, found none");
            }
            if (active != null) {
                RoundRecord running = active.record().get();
                throw new RoundConflictException("round " + running.id() + " is " + running.state().wireName()
                        + ": expected no round in progress, found round " + running.id(), running.id());
            }
            SampleJournal.Snapshot snapshot = journal.snapshot();
            int train = snapshot.train().size();
            int holdout = snapshot.holdout().size();
            if (train == 0 || holdout == 0) {
                throw new RoundConflictException("not enough samples for a round: expected at least 1 training and 1 "
                        + "held-out sample, found " + train + " training and " + holdout + " held-out (holdout-fraction "
                        + journal.settings().holdoutFraction() + ")", null);
            }
            long seed = overrides.seed().orElseGet(() -> ThreadLocalRandom.current().nextLong(1L << 48));
            RoundRecord queued = RoundRecord.queued(records.nextId(), model, trigger, seed, settings);
            records.save(queued);
            Active handle = new Active(queued.id(), new AtomicBoolean(), new AtomicReference<>(queued));
            active = handle;
            executor.execute(() -> execute(handle));
            LOG.infof("round %d queued (%s): %d epochs, batch %d, learning rate %s, seed %d", queued.id(), trigger,
                    settings.epochs(), settings.batchSize(), settings.learningRate(), seed);
            return queued;
        }
    }

    /**
     * Asks a queued or running round to stop; it ends as {@code cancelled} at its next step.
     *
     * @return the round's record as it is now
     * @throws ProblemException (unknown-round) when no such round exists
     * @throws RoundConflictException when the round already finished
     */
    public RoundRecord cancel(long id) {
        synchronized (lock) {
            if (active != null && active.id() == id) {
                active.cancel().set(true);
                LOG.infof("round %d: cancel requested", id);
                return active.record().get();
            }
        }
        RoundRecord record = find(id);
        throw new RoundConflictException("round " + id + " already finished: expected a queued or running round, found "
                + record.state().wireName(), null);
    }

    /** One round by id. */
    public RoundRecord find(long id) {
        long newest = records.latest().map(RoundRecord::id).orElse(0L);
        return records.find(id).orElseThrow(() -> new ProblemException(ProblemType.UNKNOWN_ROUND,
                "round " + id + " does not exist: expected an id in [1, " + newest + "], found " + id));
    }

    /** Starts a round when {@code min-new-samples} samples arrived since the last one; returns it if it did. */
    public Optional<RoundRecord> samplesAdded() {
        if (options.minNewSamples() <= 0) {
            return Optional.empty();
        }
        long fresh = journal.countNewerThan(lastRoundThroughId());
        if (fresh < options.minNewSamples()) {
            return Optional.empty();
        }
        return tryStart("min-new-samples");
    }

    /** Starts a round when samples arrived since the last one; the interval trigger calls this. */
    public Optional<RoundRecord> intervalElapsed() {
        if (journal.countNewerThan(lastRoundThroughId()) == 0) {
            return Optional.empty();
        }
        return tryStart("interval");
    }

    private Optional<RoundRecord> tryStart(String trigger) {
        if (!routing.trainsHere()) {
            // The trainer's own triggers fire there.
            return Optional.empty();
        }
        try {
            return Optional.of(start(trigger, RoundOverrides.NONE));
        } catch (RoundConflictException e) {
            LOG.debugf("no %s round: %s", trigger, e.getMessage());
            return Optional.empty();
        } catch (RuntimeException e) {
            // A trigger rides on a request that already succeeded (samples are on disk): never fail it.
            LOG.warnf("no %s round: %s", trigger, e.getMessage());
            return Optional.empty();
        }
    }

    /** The newest sample id the latest round that got to training saw; 0 before any. */
    private long lastRoundThroughId() {
        return records.newestTrained().map(r -> r.samples().throughId()).orElse(0L);
    }

    private void execute(Active handle) {
        int nice = roundNice;
        if (nice != roundThreadNice && RoundThreadPriority.lowerCurrentThread(nice)) {
            roundThreadNice = nice;
        }
        long started = System.nanoTime();
        double lastTrainLoss = Double.NaN;
        Path workDir = options.workRoot().resolve("round-" + handle.id());
        ServingYield yield = ServingYield.OFF;
        try {
            Prepared prepared = prepare(handle, workDir);
            yield = prepared.yield();
            TrainingRound.Outcome outcome = prepared.round().run();
            lastTrainLoss = outcome.lastTrainLoss();
            conclude(handle, prepared.base(), outcome, yield);
        } catch (RoundCancelledException e) {
            complete(handle, handle.record().get().cancelled(isClosed()
                    ? "the server shut down during the round" : e.getMessage()));
        } catch (RuntimeException e) {
            if (handle.cancel().get() && isClosed()) {
                // Whatever broke once shutdown began (a session torn down under the round) is the stop's doing.
                LOG.infof("round %d stopped by the shutdown: %s", handle.id(), e.getMessage());
                complete(handle, handle.record().get().cancelled("the server shut down during the round"));
                return;
            }
            LOG.errorf("round %d failed: %s", handle.id(), e.getMessage());
            LOG.debug("round failure", e);
            complete(handle, handle.record().get().failed(e.getMessage()));
        } finally {
            deleteRecursively(workDir);
            if (yield.pauses() > 0) {
                metrics.roundYielded(yield.pauses(), yield.waited());
            }
            finished(handle, started, lastTrainLoss);
        }
    }

    private boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** A round ready to train, the version it trains from, and how it gives way to serving. */
    private record Prepared(TrainingRound round, ModelVersion base, ServingYield yield) {
    }

    /** Builds the round from the served version and the buffered samples, and records it as running. */
    private Prepared prepare(Active handle, Path workDir) {
        if (handle.cancel().get()) {
            throw new RoundCancelledException("cancelled on request before it started");
        }
        int baseNumber = served.activeVersion().orElseThrow(() -> new ProblemException(ProblemType.ROUND_FAILED,
                "no version is served: expected an active version to train from, found none"));
        ModelVersion base = served.store().version(baseNumber);
        SampleJournal.Snapshot snapshot = journal.snapshot();
        RoundRecord queued = handle.record().get();
        TrainingRound round = new TrainingRound(env.get(), artifacts.get(),
                new TrainingRound.Base(base.version(), base.checkpoint(), base.inferenceModel(), base.inferenceOutput()),
                snapshot, queued.settings(), queued.seed(), options.threads(), gate, workDir,
                progress -> publish(handle, handle.record().get().withProgress(progress), false),
                () -> handle.cancel().get());
        if (featureCache != null) {
            round.useFeatureCache(featureCache);
        }
        IntSupplier inFlight = servingInFlight;
        ServingYield yield = inFlight == null ? ServingYield.OFF : new ServingYield(inFlight, yieldMaxWait);
        round.yieldingTo(yield);
        reference.get().ifPresent(round::withReference);
        RoundRecord running = queued.running(base.version(), TrainingRound.countSamples(snapshot, queued.settings())
                .withFeedback(feedback.count(snapshot.train())), round.plannedSteps());
        publish(handle, running, true);
        return new Prepared(round, base, yield);
    }

    /** Records the scores and the gate's decision; promotes the candidate when the gate accepts it. */
    private void conclude(Active handle, ModelVersion base, TrainingRound.Outcome outcome, ServingYield yield) {
        RoundRecord scored = handle.record().get().withMetrics(outcome.active(), outcome.candidate(),
                outcome.decision()).withFeatureCache(outcome.featureCache());
        if (!outcome.decision().promote()) {
            complete(handle, scored.rejected());
            return;
        }
        if (handle.cancel().get()) {
            throw new RoundCancelledException("cancelled on request before publishing");
        }
        RoundRecord.Progress last = scored.progress();
        publish(handle, scored.withProgress(new RoundRecord.Progress(last.epoch(), last.epochs(), last.step(),
                last.steps(), last.runningLoss(), "publishing")), true);
        beforePromotion.run();
        // Loading and warming the new version is the last heavy work of a round.
        yield.pause();
        Optional<ModelVersion> promoted = promoter.promoteOver(base.version(), outcome.candidateDir(),
                Lineage.fromRound(base.version(), Long.toString(handle.id()), outcome.samples().train(),
                        outcome.candidate().asMap("")), outcome.samples().throughId());
        if (promoted.isEmpty()) {
            // The operator's choice wins: the candidate was compared with the base only.
            String now = served.store().activeNumber().isPresent()
                    ? Integer.toString(served.store().activeNumber().getAsInt()) : "none";
            complete(handle, handle.record().get().rejected("not promoted: version " + now + " was activated during"
                    + " the round, and the candidate was compared with version " + base.version() + " only"));
            return;
        }
        journal.markConsumed(outcome.samples().throughId());
        complete(handle, handle.record().get().promoted(promoted.get().version()));
    }

    /** Where the scheduler learns which samples came from feedback, so round records count them. */
    public void feedbackLedger(FeedbackLedger ledger) {
        this.feedback = ledger;
    }

    /** The reference set each round guards against forgetting with, read when a round starts. */
    public void referenceGuard(Supplier<Optional<TrainingRound.ReferenceGuard>> guard) {
        this.reference = guard;
    }

    /** For tests: runs on the round's thread after the gate accepted a candidate, before it is promoted. */
    void beforePromotion(Runnable hook) {
        beforePromotion = hook;
    }

    /** Frees the scheduler for the next round and, when the round reached a final state, meters and logs it. */
    private void finished(Active handle, long startedNanos, double lastTrainLoss) {
        RoundRecord last = handle.record().get();
        synchronized (lock) {
            if (active == handle) {
                active = null;
            }
        }
        if (last.state().isFinal()) {
            metrics.roundFinished(last, Duration.ofNanos(System.nanoTime() - startedNanos), lastTrainLoss);
            LOG.infof("round %d %s", last.id(), last.decision() != null && last.cause() == null
                    ? last.decision().reason()
                    : last.state().wireName() + (last.cause() != null ? ": " + last.cause() : ""));
        }
    }

    /**
     * Ends the round: it stops being the one in progress before its final record is visible, so a
     * client that sees the round finished can start the next one at once.
     */
    private void complete(Active handle, RoundRecord last) {
        synchronized (lock) {
            if (active == handle) {
                active = null;
            }
        }
        publish(handle, last, true);
    }

    private void publish(Active handle, RoundRecord record, boolean durable) {
        handle.record().set(record);
        if (durable) {
            try {
                records.save(record);
            } catch (RuntimeException e) {
                // The round goes on; its in-memory record stays current and the next save retries.
                LOG.errorf("cannot save round %d: %s", record.id(), e.getMessage());
                records.update(record);
            }
        } else {
            records.update(record);
        }
    }

    /**
     * Cancels a running round and waits (at most 30 s) for its thread to finish: the round closes its
     * training and scoring sessions and records itself {@code cancelled} before this returns, so the
     * native environment is never released under it. Safe to call twice.
     */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (active != null) {
                active.cancel().set(true);
            }
        }
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("a training round did not stop within 30 s of shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteRecursively(Path dir) {
        try {
            Durable.deleteTree(dir);
        } catch (IOException e) {
            LOG.warnf("cannot clear %s: %s", dir, e.getMessage());
        }
    }
}
