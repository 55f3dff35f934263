package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.training.ReferenceSet;
import io.microkernel.training.ReferenceSets;
import io.microkernel.training.RoundScheduler;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The reference set the gate guards against forgetting with: see it, or upload one in place of the shipped one. */
@Path("/v1/models/{model}/reference")
@Tag(name = "Training", description = "Labelled samples and training rounds")
@Produces(MediaType.APPLICATION_JSON)
public class ReferenceResource {

    @Inject
    SampleAdmission intake;

    @Inject
    ReferenceSets references;

    @Inject
    RoundScheduler scheduler;

    @Inject
    ObjectMapper mapper;

    /** The reference set in force. */
    public record ReferenceStatus(String model, String source, int samples,
            @JsonProperty("per_label") Map<String, Long> perLabel) {
    }

    @GET
    @Operation(summary = "The reference set", description = "Where it came from (artifact set or uploaded), its size and"
            + " its samples per label; 404 when the model has none.")
    @APIResponse(responseCode = "404", description = "The model has no reference set")
    public ReferenceStatus get(@PathParam("model") String model) {
        intake.requireReady(model);
        ReferenceSet set = references.current().orElseThrow(() -> new jakarta.ws.rs.NotFoundException(
                "model '" + model + "' has no reference set: expected one named by the artifact set's manifest"
                        + " (\"reference_set\") or uploaded with PUT, found neither"));
        return status(model, set);
    }

    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    @Mutating
    @Operation(summary = "Upload a reference set", description = "{\"samples\":[{\"input\": ..., \"label\": ...}]}, as"
            + " /samples takes them; replaces the reference set rounds score against (and replay, when configured).")
    @APIResponse(responseCode = "200", description = "The reference set now in force")
    @APIResponse(responseCode = "400", description = "A sample does not fit the model",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public ReferenceStatus put(@PathParam("model") String model, TrainingApi.SamplesRequest request) {
        intake.requireReady(model);
        if (request == null || request.samples() == null || request.samples().isEmpty()) {
            throw new InputValidationException(InputProblem.EMPTY_BATCH,
                    "expected {\"samples\": [{\"input\": ..., \"label\": ...}]} with at least 1 sample, found none");
        }
        List<String> lines = new ArrayList<>(request.samples().size());
        for (TokenBuffer sample : request.samples()) {
            try {
                lines.add(mapper.writeValueAsString(sample));
            } catch (JsonProcessingException e) {
                throw new InputValidationException(InputProblem.MALFORMED, "expected JSON samples, found "
                        + e.getOriginalMessage());
            }
        }
        return status(model, references.replace(lines));
    }

    private ReferenceStatus status(String model, ReferenceSet set) {
        return new ReferenceStatus(model, set.source(), set.size(), scheduler.labelDomain().byName(set.perClass()));
    }
}
