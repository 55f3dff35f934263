package io.microkernel.training;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * Everything known about one training round: what it started from, how it trained, how the
 * candidate and the active version scored, and what the gate decided and why. Persisted as one JSON
 * file per round. Immutable (each change makes a new record); safe to share between threads.
 *
 * @param id               round number, 1, 2, 3 ... per model
 * @param model            the model name
 * @param state            queued, running, promoted, rejected, failed or cancelled
 * @param trigger          what started it: {@code manual}, {@code min-new-samples}, {@code interval}, or
 *                         {@code drift psi=<index> threshold=<threshold>}
 * @param baseVersion      the active version the round trained from ({@code null} until it starts)
 * @param promotedVersion  the version it published, when promoted
 * @param seed             the shuffling seed, so the round can be repeated
 * @param settings         epochs, batch size, learning rate and the rest the round used
 * @param samples          how many samples it trained and evaluated on
 * @param progress         epoch, step and running loss while it runs; the last values afterwards
 * @param activeMetrics    the active version on the holdout
 * @param candidateMetrics the candidate on the same holdout
 * @param decision         the gate's decision with its numbers
 * @param cause            why the round failed or was cancelled
 * @param featureCache     whether the round trained on cached frozen features, why not, and the hit rate
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record RoundRecord(
        long id,
        String model,
        RoundState state,
        String trigger,
        Integer baseVersion,
        Integer promotedVersion,
        long seed,
        RoundSettings settings,
        SampleCounts samples,
        Progress progress,
        EvaluationMetrics activeMetrics,
        EvaluationMetrics candidateMetrics,
        PromotionDecision decision,
        String cause,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        FeatureCacheUse featureCache) {

    /**
     * Samples a round used.
     *
     * @param train     training samples available (new plus replay)
     * @param fresh     training samples newer than the last promoted round
     * @param replay    older training samples mixed into minibatches
     * @param holdout   held-out samples both versions were scored on
     * @param throughId the newest sample id the round saw
     * @param feedback  training samples that came from feedback (labels for earlier predictions)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record SampleCounts(int train, int fresh, int replay, int holdout, long throughId, int feedback) {

        public SampleCounts(int train, int fresh, int replay, int holdout, long throughId) {
            this(train, fresh, replay, holdout, throughId, 0);
        }

        public SampleCounts withFeedback(int count) {
            return new SampleCounts(train, fresh, replay, holdout, throughId, count);
        }
    }

    /**
     * Where a running round is.
     *
     * @param epoch       the current epoch, from 1
     * @param epochs      epochs in the round
     * @param step        optimizer steps done so far in the round
     * @param steps       optimizer steps the round will take in all
     * @param runningLoss mean training loss of the current epoch so far
     * @param phase       {@code training}, {@code evaluating}, {@code publishing} or {@code done}
     * @param epochLosses mean training loss of each epoch so far, epoch 1 first; the last entry is the
     *                    current epoch's running mean while it trains
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Progress(int epoch, int epochs, long step, long steps, double runningLoss, String phase,
            java.util.List<Double> epochLosses) {

        public Progress {
            epochLosses = epochLosses == null ? java.util.List.of() : java.util.List.copyOf(epochLosses);
        }

        /** Progress without the per-epoch history; {@link RoundRecord#withProgress} carries it over. */
        public Progress(int epoch, int epochs, long step, long steps, double runningLoss, String phase) {
            this(epoch, epochs, step, steps, runningLoss, phase, java.util.List.of());
        }

        /** This progress with the losses of {@code earlier} and this epoch's running loss as its entry. */
        Progress after(Progress earlier) {
            java.util.List<Double> losses = new java.util.ArrayList<>(earlier == null ? epochLosses : earlier.epochLosses);
            if (epoch >= 1 && epoch <= losses.size() + 1 && !Double.isNaN(runningLoss)) {
                if (epoch == losses.size() + 1) {
                    losses.add(runningLoss);
                } else {
                    losses.set(epoch - 1, runningLoss);
                }
            }
            return new Progress(epoch, epochs, step, steps, runningLoss, phase, losses);
        }
    }

    public static RoundRecord queued(long id, String model, String trigger, long seed, RoundSettings settings) {
        return new RoundRecord(id, model, RoundState.QUEUED, trigger, null, null, seed, settings, null, null, null,
                null, null, null, Instant.now(), null, null, null);
    }

    public RoundRecord running(int base, SampleCounts counts, long totalSteps) {
        return new RoundRecord(id, model, RoundState.RUNNING, trigger, base, null, seed, settings, counts,
                new Progress(0, settings.epochs(), 0, totalSteps, Double.NaN, "training"), null, null, null, null,
                createdAt, Instant.now(), null, featureCache);
    }

    /** The record with {@code next} as its progress, keeping the loss of every epoch reported so far. */
    public RoundRecord withProgress(Progress next) {
        return new RoundRecord(id, model, state, trigger, baseVersion, promotedVersion, seed, settings, samples,
                next.after(progress),
                activeMetrics, candidateMetrics, decision, cause, createdAt, startedAt, finishedAt, featureCache);
    }

    public RoundRecord withMetrics(EvaluationMetrics active, EvaluationMetrics candidate, PromotionDecision verdict) {
        return new RoundRecord(id, model, state, trigger, baseVersion, promotedVersion, seed, settings, samples,
                progress, active, candidate, verdict, cause, createdAt, startedAt, finishedAt, featureCache);
    }

    /** The same record saying whether the round trained on cached frozen features. */
    public RoundRecord withFeatureCache(FeatureCacheUse use) {
        return new RoundRecord(id, model, state, trigger, baseVersion, promotedVersion, seed, settings, samples,
                progress, activeMetrics, candidateMetrics, decision, cause, createdAt, startedAt, finishedAt, use);
    }

    public RoundRecord promoted(int version) {
        return finish(RoundState.PROMOTED, version, null);
    }

    public RoundRecord rejected() {
        return finish(RoundState.REJECTED, null, null);
    }

    /** Rejected for a reason other than the gate's numbers (the gate's decision stays in the record). */
    public RoundRecord rejected(String why) {
        return finish(RoundState.REJECTED, null, why);
    }

    /** A round whose version was published and activated, though the process stopped before it could say so. */
    public RoundRecord promotedBeforeStop(int version, String note) {
        return new RoundRecord(id, model, RoundState.PROMOTED, trigger, baseVersion, version, seed, settings, samples,
                progress, activeMetrics, candidateMetrics, decision, note, createdAt, startedAt,
                finishedAt != null ? finishedAt : Instant.now(), featureCache);
    }

    /** The same failed round with a more precise cause. */
    public RoundRecord withCause(String why) {
        return new RoundRecord(id, model, state, trigger, baseVersion, promotedVersion, seed, settings, samples,
                progress, activeMetrics, candidateMetrics, decision, why, createdAt, startedAt, finishedAt, featureCache);
    }

    public RoundRecord failed(String why) {
        return finish(RoundState.FAILED, null, why);
    }

    public RoundRecord cancelled(String why) {
        return finish(RoundState.CANCELLED, null, why);
    }

    private RoundRecord finish(RoundState end, Integer version, String why) {
        Progress last = progress == null ? null : new Progress(progress.epoch(), progress.epochs(), progress.step(),
                progress.steps(), progress.runningLoss(), "done", progress.epochLosses());
        return new RoundRecord(id, model, end, trigger, baseVersion, version, seed, settings, samples, last,
                activeMetrics, candidateMetrics, decision, withoutServerPaths(why), createdAt, startedAt, Instant.now(),
                featureCache);
    }

    /** An absolute path: a slash after a non-word character, then two or more segments. */
    private static final java.util.regex.Pattern ABSOLUTE_PATH =
            java.util.regex.Pattern.compile("(?<![\\w.~])/(?:[^\\s/'\"(),;:\\[\\]]+/)+([^\\s/'\"(),;:\\[\\]]*)");

    /**
     * A cause as clients may read it: absolute server paths (from ORT or the file system) are cut to
     * their last segment, {@code .../checkpoint}, so a record does not reveal the server's layout.
     * The log keeps the whole message.
     */
    static String withoutServerPaths(String cause) {
        return cause == null ? null : ABSOLUTE_PATH.matcher(cause).replaceAll(m -> java.util.regex.Matcher
                .quoteReplacement(".../" + m.group(1)));
    }
}
