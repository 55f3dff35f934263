package io.microkernel.api;

import io.microkernel.serving.ModelNotReadyException;
import io.microkernel.training.InvalidSampleException;
import io.microkernel.training.LabelledInput;
import io.microkernel.training.RoundRecord;
import io.microkernel.training.RoundScheduler;
import io.microkernel.training.Sample;
import io.microkernel.training.SampleBufferFullException;
import io.microkernel.training.SampleIntake;
import io.microkernel.training.SampleJournal;
import io.microkernel.training.SampleStats;
import io.microkernel.training.TrainingMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one way labelled samples enter the journal, whether posted to {@code /samples} or made from
 * feedback: the model must be served, the Idempotency-Key well formed, the append durable before
 * the answer, a retry answered as the first request was, and the {@code min-new-samples} trigger
 * consulted.
 */
@ApplicationScoped
public class SampleAdmission {

    /** The request header that makes a retry safe (IETF draft "The Idempotency-Key HTTP Header Field"). */
    static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    /** Set on the answer to a retry that stored nothing new. */
    static final String IDEMPOTENT_REPLAYED = "Idempotent-Replayed";

    @Inject
    ModelPaths paths;

    @Inject
    RoundScheduler scheduler;

    @Inject
    TrainingMetrics metrics;

    /** The local journal in single-node mode, the fleet's sample stream in fleet mode. */
    @Inject
    SampleIntake intake;

    /**
     * What an append did.
     *
     * @param body     the answer {@code /samples} gives
     * @param stored   the samples as stored (with their ids)
     * @param replayed whether this was a retry that stored nothing new
     */
    record Stored(TrainingApi.SamplesAccepted body, List<Sample> stored, boolean replayed) {
    }

    /** Samples are validated against the served model's artifact set, so there must be one. */
    void requireReady(String model) {
        if (!paths.model(model).isReady()) {
            throw new ModelNotReadyException("model '" + model + "' is not ready: expected a served version to take "
                    + "samples for, found none");
        }
    }

    static void checkIdempotencyKey(String key) {
        if (key == null) {
            return;
        }
        boolean visibleAscii = key.chars().allMatch(c -> c >= 0x21 && c <= 0x7e);
        if (key.isEmpty() || key.length() > 255 || !visibleAscii) {
            String found = key.length() > 40 ? key.length() + " characters" : "'" + key + "'";
            throw new InvalidSampleException(IDEMPOTENCY_KEY + ": expected 1 to 255 visible ASCII characters, found "
                    + found);
        }
    }

    /** Appends validated samples durably and counts them; a retry of a stored request stores nothing new. */
    Stored store(String model, List<LabelledInput> batch, String idempotencyKey) {
        refuseText(batch);
        SampleJournal.Appended appended;
        try {
            appended = intake.accept(batch, idempotencyKey);
        } catch (SampleBufferFullException e) {
            metrics.samplesRejected("buffer-full", batch.size());
            throw e;
        }
        List<Sample> stored = appended.samples();
        List<Long> ids = stored.stream().map(Sample::id).toList();
        if (appended.replayed()) {
            return new Stored(new TrainingApi.SamplesAccepted(stored.size(), ids, stats(model), null), stored, true);
        }
        metrics.samplesAccepted(stored.size());
        Optional<RoundRecord> started = scheduler.samplesAdded();
        return new Stored(new TrainingApi.SamplesAccepted(stored.size(), ids, stats(model),
                started.map(RoundRecord::id).orElse(null)), stored, false);
    }

    /**
     * Text (BYTES) inputs serve, but do not train: the journal, the feature cache and the drift
     * summaries hold numbers, so such samples are refused before anything is stored.
     */
    private static void refuseText(List<LabelledInput> batch) {
        for (LabelledInput sample : batch) {
            for (Map.Entry<String, io.microkernel.tensor.Tensor> input : sample.inputs().entrySet()) {
                if (input.getValue().dtype().isString()) {
                    throw new InvalidSampleException("input '" + input.getKey() + "': expected a numeric or boolean"
                            + " input to learn from, found BYTES (text inputs are served, not trained on)");
                }
            }
        }
    }

    TrainingApi.BufferStats stats(String model) {
        requireReady(model);
        SampleJournal journal = scheduler.journal();
        SampleStats stats = journal.stats();
        Map<String, Long> perLabel = scheduler.labelDomain().byName(stats.perClass());
        return new TrainingApi.BufferStats(model, stats.total(), stats.train(), stats.holdout(), stats.capacity(),
                journal.countNewerThan(stats.consumedThrough()), perLabel);
    }
}
