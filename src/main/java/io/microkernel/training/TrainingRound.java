package io.microkernel.training;

import io.microkernel.runtime.OrtSessions;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.ArtifactException;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.store.Durable;
import io.microkernel.training.features.FeatureCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * One training round: trains a candidate from the active version's checkpoint on the buffered
 * samples, scores the candidate and the active version on the same holdout, and lets the
 * {@link PromotionGate} decide. It does not publish: the caller publishes
 * {@link Outcome#candidateDir()} when the decision says so.
 *
 * <p>The active version's files are only read: the round copies the checkpoint into its own work
 * folder and trains the copy. Every step is {@code trainStep}, {@code optimizerStep},
 * {@code lazyResetGrad}, with the inputs in {@code getTrainInputNames()} order. Minibatches are
 * shuffled from a recorded seed ({@link MinibatchPlan}). Training stops early when the loss stops
 * being finite; the gate then rejects the candidate with its numbers.
 *
 * <p>Between units of its work (each optimizer step, each holdout batch, each session it opens, the
 * export) the round gives way to serving through its {@link ServingYield} ({@link #yieldingTo}).
 *
 * <p>Not thread-safe: {@link #run()} runs once, on the caller's thread. {@code cancelled} is polled
 * between steps from that thread and may be set from any other.
 */
public final class TrainingRound {

    private static final Logger LOG = Logger.getLogger(TrainingRound.class);
    /** Holdout samples per inference or eval call; large enough to be quick, small enough for any model. */
    private static final int EVAL_BATCH = 256;
    /** About how long one evaluation batch through the inference model takes while the round gives way to serving. */
    static final java.time.Duration YIELDING_EVAL_BATCH_TIME = java.time.Duration.ofMillis(5);
    /** Progress is reported at most this many times per epoch, so listeners are not flooded. */
    private static final int REPORTS_PER_EPOCH = 50;

    /**
     * The version a round starts from.
     *
     * @param version         its number
     * @param checkpoint      its training checkpoint (read, never written)
     * @param inferenceModel  the inference graph serving runs for it
     * @param inferenceOutput the output of that graph carrying scores or values
     */
    public record Base(int version, Path checkpoint, Path inferenceModel, String inferenceOutput) {
        public Base {
            Objects.requireNonNull(checkpoint, "checkpoint");
            Objects.requireNonNull(inferenceModel, "inferenceModel");
            Objects.requireNonNull(inferenceOutput, "inferenceOutput");
        }
    }

    /**
     * What a finished round produced.
     *
     * @param samples       the samples it trained and scored on
     * @param active        the active version on the holdout
     * @param candidate     the candidate on the same holdout
     * @param decision      the gate's decision
     * @param candidateDir  a folder with the candidate's {@code checkpoint} and {@code inference.onnx}
     * @param lastTrainLoss the mean training loss of the last epoch
     * @param diverged      whether training stopped early on a non-finite loss
     * @param featureCache  whether the round trained on cached frozen features, and the hit rate
     */
    public record Outcome(RoundRecord.SampleCounts samples, EvaluationMetrics active, EvaluationMetrics candidate,
            PromotionDecision decision, Path candidateDir, double lastTrainLoss, boolean diverged,
            FeatureCacheUse featureCache) {
    }

    /** File names inside {@link Outcome#candidateDir()}, the layout {@code ModelStore.publish} takes. */
    public static final String CHECKPOINT = "checkpoint";
    public static final String INFERENCE_MODEL = "inference.onnx";

    private final OrtEnvironment env;
    private final ArtifactSet artifacts;
    private final ArtifactDescription description;
    private final Base base;
    private final SampleJournal.Snapshot snapshot;
    private final RoundSettings settings;
    private final long seed;
    private final int threads;
    private final PromotionGate gate;
    private final Path workDir;
    private final Consumer<RoundRecord.Progress> progress;
    private final BooleanSupplier cancelled;
    private FeatureCache featureCache;
    /** The frozen features of this run, when it trains on the cut graphs; null on the full graphs. */
    private FrozenFeatures frozenFeatures;
    private FeatureCacheUse featureCacheUse = FeatureCacheUse.notUsed("the feature cache is off");
    private volatile ReferenceGuard reference;
    private ServingYield yield = ServingYield.OFF;

    /**
     * The reference set a round guards against forgetting with.
     *
     * @param set     the labelled reference samples
     * @param maxDrop accuracy points (or MSE share) the candidate may lose on them
     * @param replay  whether they join the replay pool of the minibatches
     */
    public record ReferenceGuard(ReferenceSet set, double maxDrop, boolean replay) {
    }

    /**
     * @param workDir   an empty folder the round owns; the caller deletes it after publishing
     * @param threads   ORT intra-op threads for the round's sessions
     * @param progress  called on the round's thread with epoch, step and running loss
     * @param cancelled polled between steps; true stops the round with {@link RoundCancelledException}
     */
    public TrainingRound(OrtEnvironment env, ArtifactSet artifacts, Base base, SampleJournal.Snapshot snapshot,
            RoundSettings settings, long seed, int threads, PromotionGate gate, Path workDir,
            Consumer<RoundRecord.Progress> progress, BooleanSupplier cancelled) {
        this.env = env;
        this.artifacts = artifacts;
        this.description = artifacts.description();
        this.base = base;
        this.snapshot = snapshot;
        this.settings = settings;
        this.seed = seed;
        this.threads = Math.max(1, threads);
        this.gate = gate;
        this.workDir = workDir;
        this.progress = progress;
        this.cancelled = cancelled;
    }

    /**
     * Trains on the graphs cut at the frozen frontier, with each sample's frozen features computed
     * once and kept in {@code cache}, when the set can be cut; on the full graphs otherwise (the
     * outcome says why). Call before {@link #run()}.
     */
    public TrainingRound useFeatureCache(FeatureCache cache) {
        this.featureCache = cache;
        return this;
    }

    /** Gives way to serving between units of work as {@code yield} says; call before {@link #run()}. */
    public TrainingRound yieldingTo(ServingYield yield) {
        this.yield = Objects.requireNonNull(yield, "yield");
        return this;
    }

    /** Scores both versions on this reference set and lets the gate refuse a candidate that forgets; call before {@link #run()}. */
    public TrainingRound withReference(ReferenceGuard guard) {
        this.reference = guard;
        return this;
    }

    /** How a snapshot splits into fresh, replay and holdout samples, as a round would use it. */
    public static RoundRecord.SampleCounts countSamples(SampleJournal.Snapshot snapshot, RoundSettings settings) {
        List<Sample> train = snapshot.train();
        int fresh = (int) train.stream().filter(s -> s.id() > snapshot.consumedThrough()).count();
        int replay = train.size() - fresh;
        if (fresh == 0) {
            fresh = train.size();
            replay = 0;
        }
        return new RoundRecord.SampleCounts(train.size(), fresh, settings.replayFraction() > 0 ? replay : 0,
                snapshot.holdout().size(), snapshot.lastId());
    }

    /** The optimizer steps {@link #run()} will take, for progress reporting. */
    public long plannedSteps() {
        return plan().totalSteps();
    }

    /**
     * Trains, scores and decides.
     *
     * @throws RoundCancelledException when {@code cancelled} turned true
     * @throws ProblemException (round-failed) on a native, artifact or disk error
     */
    public Outcome run() {
        try {
            return runChecked();
        } catch (OrtException | ArtifactException | IllegalStateException e) {
            throw new ProblemException(ProblemType.ROUND_FAILED, "training round failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ProblemException(ProblemType.ROUND_FAILED, "training round failed on disk: " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new ProblemException(ProblemType.ROUND_FAILED, "training round failed on disk: "
                    + e.getCause().getMessage(), e);
        }
    }

    private MinibatchPlan plan() {
        List<Sample> train = snapshot.train();
        List<Sample> fresh = train.stream().filter(s -> s.id() > snapshot.consumedThrough()).toList();
        List<Sample> replay = settings.replayFraction() > 0
                ? train.stream().filter(s -> s.id() <= snapshot.consumedThrough()).toList()
                : List.of();
        if (fresh.isEmpty()) {
            // Nothing new since the last promotion: retrain on everything rather than on nothing.
            fresh = train;
            replay = List.of();
        }
        ReferenceGuard guard = reference;
        if (guard != null && guard.replay()) {
            replay = java.util.stream.Stream.concat(replay.stream(), guard.set().samples().stream()).toList();
        }
        return MinibatchPlan.build(fresh, replay, settings, seed);
    }

    private Outcome runChecked() throws OrtException, IOException {
        MinibatchPlan plan = plan();
        List<Sample> holdout = snapshot.holdout();
        RoundRecord.SampleCounts counts = new RoundRecord.SampleCounts(plan.freshCount() + plan.replayCount(),
                plan.freshCount(), plan.replayCount(), holdout.size(), snapshot.lastId());
        Files.createDirectories(workDir);
        Path startCheckpoint = workDir.resolve("start-checkpoint");
        Files.copy(base.checkpoint(), startCheckpoint, StandardCopyOption.REPLACE_EXISTING);
        // A private copy, so activating or retiring versions during the round cannot pull the file away.
        Path activeInference = workDir.resolve("active-inference.onnx");
        Files.copy(base.inferenceModel(), activeInference, StandardCopyOption.REPLACE_EXISTING);
        Path candidateDir = Files.createDirectories(workDir.resolve("candidate"));
        HoldoutScorer scorer = scorer(holdout);

        OrtTrainingSession.setSeed(seed);
        yield.pause();
        try (OrtSession.SessionOptions options = OrtSessions.options(threads, 1);
                FrozenFeatures features = prepareFeatures(startCheckpoint, plan);
                OrtTrainingSession session = openSession(features, startCheckpoint, options)) {
            // Scored before the first step, the session still holds exactly the active version's parameters.
            double activeLoss = scorer.evalLoss(session, this::inputs);
            Epochs epochs = train(session, plan);
            checkCancelled();
            progress.accept(new RoundRecord.Progress(plan.epochCount(), plan.epochCount(), epochs.steps(),
                    plan.totalSteps(), epochs.lastEpochLoss(), "evaluating"));
            double candidateLoss = scorer.evalLoss(session, this::inputs);
            yield.pause();
            saveCheckpoint(session, candidateDir.resolve(CHECKPOINT));
            return finish(scorer, counts, activeLoss, candidateLoss, activeInference, candidateDir,
                    epochs.lastEpochLoss(), epochs.diverged());
        }
    }

    /**
     * What the epochs of training did.
     *
     * @param steps         optimizer steps taken
     * @param lastEpochLoss the mean training loss of the last epoch trained
     * @param diverged      whether training stopped early on a non-finite loss
     */
    private record Epochs(long steps, double lastEpochLoss, boolean diverged) {
    }

    /** Runs the plan's epochs of minibatches, reporting progress; stops early when the loss stops being finite. */
    private Epochs train(OrtTrainingSession session, MinibatchPlan plan) throws OrtException {
        long step = 0;
        long totalSteps = plan.totalSteps();
        double lastEpochLoss = Double.NaN;
        for (int epoch = 0; epoch < plan.epochCount(); epoch++) {
            session.setLearningRate((float) settings.learningRateAt(epoch + 1));
            List<List<Sample>> batches = plan.epoch(epoch);
            int reportEvery = Math.max(1, batches.size() / REPORTS_PER_EPOCH);
            double lossSum = 0;
            int lossCount = 0;
            for (int b = 0; b < batches.size(); b++) {
                checkCancelled();
                yield.pause();
                double loss = trainStep(session, inputs(batches.get(b)));
                step++;
                lossSum += loss;
                lossCount++;
                lastEpochLoss = lossSum / lossCount;
                boolean diverged = !Double.isFinite(loss);
                if (diverged) {
                    LOG.warnf("training loss became %s at epoch %d step %d; stopping the round's training",
                            loss, epoch + 1, step);
                }
                if (diverged || b % reportEvery == 0 || b == batches.size() - 1) {
                    progress.accept(new RoundRecord.Progress(epoch + 1, plan.epochCount(), step, totalSteps,
                            lastEpochLoss, "training"));
                }
                if (diverged) {
                    return new Epochs(step, lastEpochLoss, true);
                }
            }
        }
        return new Epochs(step, lastEpochLoss, false);
    }

    private Outcome finish(HoldoutScorer scorer, RoundRecord.SampleCounts counts, double activeLoss,
            double candidateLoss, Path activeInference, Path candidateDir, double lastEpochLoss, boolean diverged)
            throws OrtException, IOException {
        Path inference = candidateDir.resolve(INFERENCE_MODEL);
        yield.pause();
        artifacts.exportInference(env, candidateDir.resolve(CHECKPOINT), inference);
        checkCancelled();
        ReferenceGuard guard = reference;
        HoldoutScorer referenceScorer = guard == null ? null
                : scorer(guard.set().samples());
        EvaluationMetrics[] scored = new EvaluationMetrics[4];
        try (OrtSession.SessionOptions options = OrtSessions.options(threads, 1)) {
            yield.pause();
            try (OrtSession session = env.createSession(activeInference.toString(), options)) {
                scored[0] = scorer.metrics(activeLoss, scorer.predict(session, base.inferenceOutput()));
                scored[2] = score(referenceScorer, session, base.inferenceOutput());
            }
            yield.pause();
            try (OrtSession session = env.createSession(inference.toString(), options)) {
                scored[1] = scorer.metrics(candidateLoss, scorer.predict(session, description.inferenceOutput()));
                scored[3] = score(referenceScorer, session, description.inferenceOutput());
            }
        }
        EvaluationMetrics active = scored[0];
        EvaluationMetrics candidate = scored[1];
        PromotionDecision decision = gate.decide(active, candidate);
        if (guard != null) {
            decision = gate.guard(decision, ReferenceCheck.of(guard.set(), scored[2], scored[3], guard.maxDrop()));
        }
        LOG.debugf("round from version %d: %s", base.version(), decision.reason());
        return new Outcome(counts, active, candidate, decision, candidateDir, lastEpochLoss, diverged,
                frozenFeatures == null ? featureCacheUse
                        : FeatureCacheUse.used(frozenFeatures.hits(), frozenFeatures.misses(), frozenFeatures.features()));
    }

    /**
     * Cuts the set at its frozen frontier when a cache is given and the set allows it; null (train on
     * the full graphs) otherwise, with the reason kept for the outcome.
     */
    private FrozenFeatures prepareFeatures(Path checkpoint, MinibatchPlan plan) throws OrtException {
        if (featureCache == null) {
            return null;
        }
        List<Sample> probe = plan.epochCount() == 0 || plan.epoch(0).isEmpty() ? List.of() : plan.epoch(0).get(0);
        FrozenFeatures.Setup setup = FrozenFeatures.prepare(env, artifacts, checkpoint, workDir, threads, probe,
                featureCache);
        if (setup instanceof FrozenFeatures.Fallback fallback) {
            LOG.infof("round from version %d trains on the full graphs: %s", base.version(), fallback.reason());
            featureCacheUse = FeatureCacheUse.notUsed(fallback.reason());
            return null;
        }
        frozenFeatures = ((FrozenFeatures.Ready) setup).features();
        return frozenFeatures;
    }

    /** A session over the cut graphs when there are frozen features, else over the full ones. */
    private OrtTrainingSession openSession(FrozenFeatures features, Path checkpoint, OrtSession.SessionOptions options)
            throws OrtException {
        if (features != null) {
            try {
                return features.openTrainingSession(checkpoint, options);
            } catch (OrtException e) {
                String reason = "ONNX Runtime cannot open a training session over the cut graphs: "
                        + e.getMessage().lines().findFirst().orElse("").strip();
                LOG.infof("round from version %d trains on the full graphs: %s", base.version(), reason);
                featureCacheUse = FeatureCacheUse.notUsed(reason);
                frozenFeatures = null;
            }
        }
        return artifacts.openTrainingSession(env, checkpoint, options);
    }

    /** A minibatch as the session takes it: with the frozen features as inputs when training on the cut graphs. */
    private List<Sample> inputs(List<Sample> batch) throws OrtException {
        return frozenFeatures == null ? batch : frozenFeatures.featured(batch);
    }

    /**
     * A scorer that gives way to serving before each batch; while the round yields, its inference
     * batches are sized to take about {@link #YIELDING_EVAL_BATCH_TIME} each, so a slow model's
     * evaluation still gives way that often.
     */
    HoldoutScorer scorer(List<Sample> samples) {
        return new HoldoutScorer(env, description, samples, EVAL_BATCH)
                .pausingWith(yield::pause, yield.enabled() ? YIELDING_EVAL_BATCH_TIME : java.time.Duration.ZERO);
    }

    /** The version on the reference set (its loss is not computed: the gate compares predictions). */
    private static EvaluationMetrics score(HoldoutScorer referenceScorer, OrtSession session, String output)
            throws OrtException {
        return referenceScorer == null ? null : referenceScorer.metrics(Double.NaN, referenceScorer.predict(session, output));
    }

    private double trainStep(OrtTrainingSession session, List<Sample> batch) throws OrtException {
        double loss;
        try (TensorBatch tensors = TensorBatch.of(env, session.getTrainInputNames(), description.label(), batch);
                OrtSession.Result result = session.trainStep(tensors.inputs())) {
            loss = OrtSessions.scalar(result.get(0), "training graph");
        }
        session.optimizerStep();
        session.lazyResetGrad();
        return loss;
    }

    /** ORT writes the checkpoint in place without syncing; write beside it, sync, then rename. */
    private static void saveCheckpoint(OrtTrainingSession session, Path target) throws OrtException, IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        // Parameters only: each round starts its optimizer afresh, so a round's learning rate means
        // the same thing whichever version it starts from.
        session.saveCheckpoint(temp, false);
        Durable.moveIntoPlace(temp, target);
    }

    private void checkCancelled() {
        if (cancelled.getAsBoolean()) {
            throw new RoundCancelledException("cancelled on request");
        }
    }
}
