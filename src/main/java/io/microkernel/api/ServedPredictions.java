package io.microkernel.api;

import io.microkernel.drift.Drift;
import io.microkernel.feedback.Feedback;
import io.microkernel.serving.ModelSignature;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.ServedModel;
import io.microkernel.tensor.NamedTensor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Every inference endpoint's way to predict: runs {@link ServedModel#predict}, then, after the
 * prediction returned, hands the inputs and the answer to the prediction log and the drift watch.
 * Observers never fail a request that succeeded, and never block it: the log only queues references
 * for its background writer, so a request may observe on an event-loop thread.
 */
@ApplicationScoped
public class ServedPredictions {

    private static final Logger LOG = Logger.getLogger(ServedPredictions.class);

    @Inject
    Feedback feedback;

    @Inject
    Drift drift;

    /** The id a response carries: the request's own (OIP {@code id}) when it sent one, else a new one ({@link ResponseIds}). */
    public static String id(String requested) {
        return requested == null || requested.isEmpty() ? ResponseIds.PROCESS.next() : requested;
    }

    /**
     * Whether an observer keeps a prediction's input tensors after {@link #predict} returns: the
     * prediction log queues them for its writer. Their owner must then not recycle them.
     */
    public boolean keepsInputs() {
        return feedback.enabled();
    }

    /** Predicts, then lets the log keep the prediction under {@code id} and the drift watch count it. */
    public Prediction predict(ServedModel served, OptionalInt version, String id,
            Function<ModelSignature, List<NamedTensor>> translate) {
        if (!feedback.enabled() && !drift.enabled()) {
            return served.predict(version, translate);
        }
        AtomicReference<List<NamedTensor>> inputs = new AtomicReference<>();
        Prediction prediction = served.predict(version, signature -> {
            List<NamedTensor> translated = translate.apply(signature);
            inputs.set(translated);
            return translated;
        });
        try {
            feedback.served(id, inputs.get(), prediction);
            if (version.isEmpty()) {
                // Only the active version's traffic is compared with the active version's training samples.
                drift.served(inputs.get(), prediction);
            }
        } catch (RuntimeException e) {
            LOG.warnf("prediction %s was served but not observed: %s", id, e.getMessage());
        }
        return prediction;
    }

    /**
     * Like {@link #predict}, for the active version, without waiting for the run
     * ({@link ServedModel#predictAsync}); the observers see the prediction when it completes, on
     * the thread that completes it (the prediction log only queues there; its own thread writes the files).
     */
    public java.util.concurrent.CompletionStage<Prediction> predictAsync(ServedModel served, String id,
            Function<ModelSignature, List<NamedTensor>> translate, long runHereNanos, Executor callerLoop, Executor workers) {
        if (!feedback.enabled() && !drift.enabled()) {
            return served.predictAsync(OptionalInt.empty(), translate, runHereNanos, callerLoop, workers);
        }
        AtomicReference<List<NamedTensor>> inputs = new AtomicReference<>();
        return served.predictAsync(OptionalInt.empty(), signature -> {
            List<NamedTensor> translated = translate.apply(signature);
            inputs.set(translated);
            return translated;
        }, runHereNanos, callerLoop, workers).thenApply(prediction -> {
            try {
                feedback.served(id, inputs.get(), prediction);
                drift.served(inputs.get(), prediction);
            } catch (RuntimeException e) {
                LOG.warnf("prediction %s was served but not observed: %s", id, e.getMessage());
            }
            return prediction;
        });
    }
}
