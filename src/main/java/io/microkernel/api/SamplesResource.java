package io.microkernel.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.ModelNotReadyException;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.training.InvalidSampleException;
import io.microkernel.training.LabelDomain;
import io.microkernel.training.LabelledInput;
import io.microkernel.training.RoundRecord;
import io.microkernel.training.RoundScheduler;
import io.microkernel.training.Sample;
import io.microkernel.training.SampleBufferFullException;
import io.microkernel.training.SampleJournal;
import io.microkernel.training.SampleLabel;
import io.microkernel.training.SampleStats;
import io.microkernel.training.TrainingMetrics;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Labelled samples: validated like inference inputs, appended durably to the journal, counted. */
@Path("/v1/models/{model}/samples")
@Tag(name = "Training", description = "Labelled samples and training rounds")
@Produces(MediaType.APPLICATION_JSON)
public class SamplesResource {

    @Inject
    ModelPaths paths;

    @Inject
    RequestTranslator translator;

    @Inject
    RoundScheduler scheduler;

    @Inject
    TrainingMetrics metrics;

    @Inject
    ObjectMapper mapper;

    @Inject
    SampleAdmission intake;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Mutating
    @Operation(summary = "Add labelled samples", description = "{\"samples\":[{\"input\": <one instance>, \"label\": "
            + "<class name, class index or target>}]}; multi-input models use \"inputs\": {name: value}. Answered"
            + " after the samples are on disk. May start a round when microkernel.training.min-new-samples is reached.")
    @APIResponse(responseCode = "202", description = "Stored durably; ids and buffer counts")
    @APIResponse(responseCode = "400", description = "A sample or label does not fit the model",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "401", description = "Not loopback and no valid token")
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "413", description = "Body over the size limit")
    @APIResponse(responseCode = "429", description = "The buffer is full; retry after the Retry-After seconds")
    @APIResponse(responseCode = "503", description = "No version is served")
    @APIResponse(responseCode = "422", description = "The Idempotency-Key was used before for other samples",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response add(@PathParam("model") String model, TrainingApi.SamplesRequest request,
            @HeaderParam(IDEMPOTENCY_KEY) String idempotencyKey) {
        requireReady(model);
        checkIdempotencyKey(idempotencyKey);
        List<LabelledInput> batch;
        try {
            batch = toSamples(request);
        } catch (InputValidationException | InvalidSampleException e) {
            metrics.samplesRejected("invalid", request == null || request.samples() == null ? 1 : request.samples().size());
            throw e;
        }
        SampleAdmission.Stored stored = intake.store(model, batch, idempotencyKey);
        if (stored.replayed()) {
            // A retry of a request already stored: the same answer, nothing counted twice.
            return Response.accepted(stored.body()).header(IDEMPOTENT_REPLAYED, "true").build();
        }
        return Response.accepted(stored.body()).build();
    }

    static final String IDEMPOTENCY_KEY = SampleAdmission.IDEMPOTENCY_KEY;
    static final String IDEMPOTENT_REPLAYED = SampleAdmission.IDEMPOTENT_REPLAYED;

    private static void checkIdempotencyKey(String key) {
        SampleAdmission.checkIdempotencyKey(key);
    }

    @GET
    @Operation(summary = "Buffer statistics", description = "Total, train and holdout sizes, and counts per label.")
    @APIResponse(responseCode = "200", description = "Counts")
    @APIResponse(responseCode = "404", description = "Unknown model")
    public TrainingApi.BufferStats stats(@PathParam("model") String model) {
        return intake.stats(model);
    }

    private void requireReady(String model) {
        intake.requireReady(model);
    }

    private List<LabelledInput> toSamples(TrainingApi.SamplesRequest request) {
        if (request == null || request.samples() == null) {
            throw new InputValidationException(InputProblem.MALFORMED,
                    "expected {\"samples\": [{\"input\": ..., \"label\": ...}]}, found no 'samples'");
        }
        List<TokenBuffer> samples = request.samples();
        if (samples.isEmpty()) {
            throw new InputValidationException(InputProblem.EMPTY_BATCH, "expected at least 1 sample, found 0");
        }
        ArtifactDescription description = scheduler.description();
        LabelDomain labels = scheduler.labelDomain();
        List<TokenBuffer> instances = new ArrayList<>(samples.size());
        List<SampleLabel> parsed = new ArrayList<>(samples.size());
        for (int row = 0; row < samples.size(); row++) {
            SampleParts sample = SampleParts.read(row, samples.get(row), mapper);
            instances.add(sample.instance());
            parsed.add(labels.parse(row, sample.label()));
        }
        List<NamedTensor> tensors = translator.fromInstances(description.inputs(), instances);
        List<LabelledInput> batch = new ArrayList<>(samples.size());
        for (int row = 0; row < samples.size(); row++) {
            Map<String, Tensor> perInput = new LinkedHashMap<>();
            for (NamedTensor tensor : tensors) {
                perInput.put(tensor.name(), tensor.tensor().row(row));
            }
            batch.add(new LabelledInput(perInput, parsed.get(row)));
        }
        return batch;
    }

    /**
     * One sample's input (its tokens, streamed into the tensors once the whole batch is checked)
     * and its label (small, so a tree).
     */
    private record SampleParts(TokenBuffer instance, JsonNode label) {

        static SampleParts read(int row, TokenBuffer sample, ObjectMapper mapper) {
            try (JsonParser p = sample == null ? null : sample.asParser(mapper)) {
                JsonToken first = p == null ? JsonToken.VALUE_NULL : p.nextToken();
                if (first != JsonToken.START_OBJECT) {
                    throw new InputValidationException(InputProblem.MALFORMED, "sample " + row
                            + ": expected an object with 'input' (or 'inputs') and 'label', found "
                            + nodeType(first).toString().toLowerCase(Locale.ROOT));
                }
                TokenBuffer input = null;
                TokenBuffer inputs = null;
                JsonToken inputsStart = null;
                JsonNode label = null;
                for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
                    JsonToken start = p.nextToken();
                    switch (field) {
                        case "input" -> input = TokenBuffer.asCopyOfValue(p);
                        case "inputs" -> {
                            inputs = TokenBuffer.asCopyOfValue(p);
                            inputsStart = start;
                        }
                        case "label" -> label = mapper.readTree(p);
                        default -> p.skipChildren();
                    }
                }
                if ((input == null) == (inputs == null)) {
                    throw new InputValidationException(InputProblem.MALFORMED, "sample " + row
                            + ": expected exactly one of 'input' or 'inputs', found " + (input == null ? "neither" : "both"));
                }
                if (inputs != null && inputsStart != JsonToken.START_OBJECT) {
                    throw new InputValidationException(InputProblem.MALFORMED, "sample " + row
                            + ": expected 'inputs' to be an object of input name to value, found " + nodeType(inputsStart));
                }
                return new SampleParts(input != null ? input : inputs, label);
            } catch (IOException e) {
                throw new UncheckedIOException("replaying buffered tokens failed", e);
            }
        }

        /** The node type a tree would report for a value starting with {@code token}. */
        private static JsonNodeType nodeType(JsonToken token) {
            return switch (token) {
                case START_OBJECT -> JsonNodeType.OBJECT;
                case START_ARRAY -> JsonNodeType.ARRAY;
                case VALUE_STRING -> JsonNodeType.STRING;
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> JsonNodeType.NUMBER;
                case VALUE_TRUE, VALUE_FALSE -> JsonNodeType.BOOLEAN;
                case VALUE_NULL -> JsonNodeType.NULL;
                default -> JsonNodeType.POJO;
            };
        }
    }
}
