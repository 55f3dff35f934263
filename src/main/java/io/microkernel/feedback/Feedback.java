package io.microkernel.feedback;

import io.microkernel.fleet.FleetPredictions;
import io.microkernel.serving.Classification;
import io.microkernel.serving.Prediction;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.training.FeedbackLedger;
import io.microkernel.training.InvalidSampleException;
import io.microkernel.training.LabelDomain;
import io.microkernel.training.LabelledInput;
import io.microkernel.training.Sample;
import io.microkernel.training.SampleLabel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The prediction log seen from both ends: {@link #served} hands what a request sent to the log (when
 * the log is on and the request sampled), {@link #resolve} turns labels by prediction id into labelled samples,
 * and {@link #accepted} counts the ones the journal stored, for the round records and for the live
 * accuracy of each version.
 *
 * <p>Thread-safe.
 */
public final class Feedback implements AutoCloseable {

    /** One item's outcome: a sample to store, or why there is none. */
    public record Resolved(int index, FeedbackItem item, LabelledInput sample, int version, Integer predicted,
            String error) {
        public boolean ok() {
            return error == null;
        }
    }

    private final Optional<PredictionLog> log;
    private final FeedbackMetrics metrics;
    private final FeedbackLedger ledger;
    private final Optional<FleetPredictions> fleet;

    public Feedback(Optional<PredictionLog> log, FeedbackMetrics metrics, FeedbackLedger ledger) {
        this(log, metrics, ledger, Optional.empty());
    }

    /** @param fleet the fleet's prediction stream the log shares through (fleet mode); closed after the log */
    public Feedback(Optional<PredictionLog> log, FeedbackMetrics metrics, FeedbackLedger ledger,
            Optional<FleetPredictions> fleet) {
        this.log = log;
        this.metrics = metrics;
        this.ledger = ledger;
        this.fleet = fleet;
    }

    public boolean enabled() {
        return log.isPresent();
    }

    public Optional<PredictionLog> log() {
        return log;
    }

    public FeedbackMetrics metrics() {
        return metrics;
    }

    /**
     * Hands a served prediction to the log when the log is on and the sampling rate picks it. Cheap
     * enough for an event-loop thread: the sampling decision comes first, and the inputs are handed
     * over by reference (tensors are immutable), to be copied and written by the log's writer.
     */
    public void served(String id, List<NamedTensor> inputs, Prediction prediction) {
        if (log.isEmpty() || inputs == null || inputs.isEmpty() || !log.get().sampled()) {
            return;
        }
        List<Classification> classes = prediction.classifications();
        int[] predicted = new int[classes.size()];
        for (int i = 0; i < predicted.length; i++) {
            predicted[i] = classes.get(i).index();
        }
        log.get().served(id, prediction.version(), inputs, predicted);
    }

    /** Looks every item up and parses its label; items that do not resolve say why. */
    public List<Resolved> resolve(List<FeedbackItem> items, LabelDomain labels) {
        PredictionLog predictions = log.orElseThrow(() -> new IllegalStateException("the prediction log is off"));
        // Once for the whole request: every prediction served before it is then in the log, or was dropped.
        predictions.flush();
        List<Resolved> resolved = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            FeedbackItem item = items.get(i);
            resolved.add(resolveOne(i, item, labels, predictions));
        }
        return resolved;
    }

    private Resolved resolveOne(int index, FeedbackItem item, LabelDomain labels, PredictionLog predictions) {
        if (item == null || item.id() == null || item.id().isEmpty()) {
            return failed(index, item, "expected a non-empty 'id' (the id of an inference response), found none");
        }
        Optional<LoggedPrediction> found = predictions.lookup(item.id());
        if (found.isEmpty()) {
            return failed(index, item, "unknown or expired prediction id '" + item.id() + "': expected the id of a "
                    + "logged prediction of the last " + predictions.settings().retention()
                    + (predictions.isShared() ? " on any replica" : "")
                    + " (sampling rate " + predictions.settings().samplingRate() + ")");
        }
        LoggedPrediction logged = found.get();
        int rows = logged.rows().size();
        int row = item.row() == null ? 0 : item.row();
        if ((item.row() == null && rows > 1) || row < 0 || row >= rows) {
            return failed(index, item, "prediction '" + item.id() + "' had " + rows + " rows: expected 'row' in [0, "
                    + rows + ")" + ", found " + (item.row() == null ? "none" : item.row()));
        }
        SampleLabel label;
        try {
            label = labels.parse(index, item.label());
        } catch (InvalidSampleException e) {
            return failed(index, item, e.getMessage());
        }
        Integer predicted = row < logged.predicted().size() ? logged.predicted().get(row) : null;
        return new Resolved(index, item, new LabelledInput(logged.rows().get(row), label), logged.version(), predicted,
                null);
    }

    private static Resolved failed(int index, FeedbackItem item, String why) {
        return new Resolved(index, item, null, 0, null, why);
    }

    /** Counts stored feedback samples: the ledger for round records, the served version's hits for its accuracy. */
    public void accepted(List<Resolved> resolved, List<Sample> stored) {
        ledger.add(stored.stream().map(Sample::id).toList());
        for (Resolved r : resolved) {
            if (r.ok() && r.predicted() != null && r.sample().label() instanceof SampleLabel.ClassIndex c) {
                metrics.labelled(r.version(), c.index() == r.predicted());
            }
        }
    }

    @Override
    public void close() {
        log.ifPresent(PredictionLog::close);
        fleet.ifPresent(FleetPredictions::close);
    }
}
