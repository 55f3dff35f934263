package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.microkernel.drift.Drift;
import io.microkernel.feedback.Feedback;
import io.microkernel.feedback.FeedbackItem;
import io.microkernel.feedback.FeedbackMetrics;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.training.InvalidSampleException;
import io.microkernel.training.LabelledInput;
import io.microkernel.training.RoundRecord;
import io.microkernel.training.RoundScheduler;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Labels for earlier predictions, by prediction id: each becomes a labelled sample, as {@code /samples} stores them. */
@Path("/v1/models/{model}/feedback")
@Tag(name = "Training", description = "Labelled samples and training rounds")
@Produces(MediaType.APPLICATION_JSON)
public class FeedbackResource {

    /** The most items one request may carry. */
    static final int MAX_ITEMS = 10_000;

    @Inject
    SampleAdmission intake;

    @Inject
    Feedback feedback;

    @Inject
    Drift drift;

    @Inject
    RoundScheduler scheduler;

    /** An item the service could not turn into a sample, and why. */
    public record Refused(int index, String id, String error) {
    }

    /** The answer: the samples stored (as {@code /samples} answers) and the items refused. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FeedbackAccepted(int accepted, List<Long> ids, List<Refused> refused, TrainingApi.BufferStats buffer,
            @JsonProperty("round_started") Long roundStarted) {
    }

    /**
     * The log's state and each version's accuracy on the labels received. {@code dropped}: predictions
     * the log did not keep (its writer had fallen behind, or the append failed) since start; their ids
     * cannot receive feedback.
     */
    public record FeedbackStatus(String model, boolean enabled, Integer logged, Long dropped, Boolean shared,
            String retention, @JsonProperty("sampling_rate") Double samplingRate, Map<String, VersionAccuracy> accuracy) {
    }

    public record VersionAccuracy(long labelled, long correct, Double accuracy) {
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Mutating
    @Operation(summary = "Label earlier predictions by id", description = "[{\"id\": <prediction id>, \"label\": <class "
            + "name, class index or target>, \"row\": <batch row, when the request had several>}], or"
            + " {\"feedback\": [...]}. Each logged prediction becomes a labelled sample through the same journal,"
            + " validation and Idempotency-Key as /samples; unknown or expired ids are refused per item.")
    @APIResponse(responseCode = "202", description = "Samples stored; refused items listed with the reason")
    @APIResponse(responseCode = "400", description = "No item could be stored, or the body is malformed",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "The prediction log is off (microkernel.feedback.enabled)")
    @APIResponse(responseCode = "429", description = "The buffer is full")
    @APIResponse(responseCode = "503", description = "Fleet mode: NATS is away, so an id this replica did not log cannot"
            + " be looked up (Retry-After)")
    public Response add(@PathParam("model") String model, JsonNode body,
            @HeaderParam(SampleAdmission.IDEMPOTENCY_KEY) String idempotencyKey) {
        intake.requireReady(model);
        SampleAdmission.checkIdempotencyKey(idempotencyKey);
        if (!feedback.enabled()) {
            throw new ProblemException(ProblemType.FEEDBACK_DISABLED, "feedback needs the prediction log: expected "
                    + "microkernel.feedback.enabled=true, found false");
        }
        List<Feedback.Resolved> resolved = feedback.resolve(items(body), scheduler.labelDomain());
        List<LabelledInput> batch = new ArrayList<>();
        List<Refused> refused = new ArrayList<>();
        for (Feedback.Resolved r : resolved) {
            if (r.ok()) {
                batch.add(r.sample());
            } else {
                refused.add(new Refused(r.index(), r.item() == null ? null : r.item().id(), r.error()));
            }
        }
        if (batch.isEmpty()) {
            throw new InvalidSampleException("expected at least 1 item naming a logged prediction, found none of "
                    + resolved.size() + ": " + refused.get(0).error()
                    + (refused.size() > 1 ? " (and " + (refused.size() - 1) + " more)" : ""));
        }
        SampleAdmission.Stored stored = intake.store(model, batch, idempotencyKey);
        Long started = stored.body().roundStarted();
        if (!stored.replayed()) {
            feedback.accepted(resolved, stored.stored());
            if (started == null) {
                started = drift.check().map(RoundRecord::id).orElse(null);
            }
        }
        FeedbackAccepted answer = new FeedbackAccepted(stored.body().accepted(), stored.body().ids(),
                refused.isEmpty() ? null : refused, stored.body().buffer(), started);
        Response.ResponseBuilder response = Response.accepted(answer);
        return stored.replayed() ? response.header(SampleAdmission.IDEMPOTENT_REPLAYED, "true").build() : response.build();
    }

    @GET
    @Operation(summary = "Prediction log and live accuracy", description = "Whether the log is on, how many predictions"
            + " it holds, and per version the labels received by prediction id and how many the version had right.")
    public FeedbackStatus status(@PathParam("model") String model) {
        intake.requireReady(model);
        Map<String, VersionAccuracy> accuracy = new LinkedHashMap<>();
        feedback.metrics().snapshot().forEach((version, a) -> accuracy.put(Integer.toString(version),
                new VersionAccuracy(a.labelled(), a.correct(), Double.isNaN(a.accuracy()) ? null : a.accuracy())));
        Optional<io.microkernel.feedback.PredictionLog> log = feedback.log();
        return new FeedbackStatus(model, feedback.enabled(), log.map(l -> l.size()).orElse(null),
                log.map(l -> l.dropped()).orElse(null), log.map(l -> l.isShared()).orElse(null),
                log.map(l -> l.settings().retention().toString()).orElse(null),
                log.map(l -> l.settings().samplingRate()).orElse(null), accuracy);
    }

    /** A bare array of items, or {@code {"feedback": [...]}}. */
    private static List<FeedbackItem> items(JsonNode body) {
        JsonNode array = body != null && body.isObject() ? body.get("feedback") : body;
        if (array == null || !array.isArray()) {
            throw new InputValidationException(InputProblem.MALFORMED, "expected [{\"id\": ..., \"label\": ...}] or "
                    + "{\"feedback\": [...]}, found " + (body == null ? "no body" : body.getNodeType().toString()
                    .toLowerCase(java.util.Locale.ROOT)));
        }
        if (array.isEmpty()) {
            throw new InputValidationException(InputProblem.EMPTY_BATCH, "expected at least 1 feedback item, found 0");
        }
        if (array.size() > MAX_ITEMS) {
            throw new InputValidationException(InputProblem.BATCH_TOO_LARGE, "expected at most " + MAX_ITEMS
                    + " feedback items, found " + array.size());
        }
        List<FeedbackItem> items = new ArrayList<>(array.size());
        for (JsonNode node : array) {
            if (!node.isObject()) {
                items.add(null);
                continue;
            }
            JsonNode id = node.get("id");
            JsonNode row = node.get("row");
            Integer rowIndex = null;
            if (row != null && !row.isNull()) {
                // A row that is no integer is reported as out of range by the item's own error.
                rowIndex = row.isIntegralNumber() && row.canConvertToInt() ? Integer.valueOf(row.asInt()) : Integer.valueOf(-1);
            }
            items.add(new FeedbackItem(id != null && id.isTextual() ? id.asText() : null, rowIndex, node.get("label")));
        }
        return items;
    }
}
