package io.microkernel.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.serving.ModelSignature;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.serving.ServedModel;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.NamedTensor;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import io.smallrye.common.annotation.NonBlocking;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.io.InputStream;
import java.util.OptionalInt;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Open Inference Protocol v2 inference. */
@Path("/v2")
@Tag(name = "Inference (v2)", description = "Open Inference Protocol v2 (KServe, Triton)")
@InferenceEndpoint
public class InferenceResource {

    @Inject
    ModelPaths paths;

    @Inject
    RequestTranslator translator;

    @Inject
    ObjectMapper json;

    @Inject
    ServedPredictions predictions;

    @Inject
    BufferPool buffers;

    private final long inlineRunNanos;

    @Inject
    public InferenceResource(MicrokernelConfig config) {
        inlineRunNanos = config.serving().inline().maxRunMicros() * 1_000L;
    }

    @POST
    @Path("/models/{model}/infer")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
    @Operation(summary = "Run the active version", description = "Inputs as OIP tensors (FP32, FP64, FP16, BF16, INT8, INT16,"
            + " INT32, INT64, UINT8, BOOL, BYTES) in JSON, or with Triton's binary tensor data extension (Inference-Header-Content-Length,"
            + " binary_data_size, binary_data, binary_data_output); the answer names the version that ran. Classifiers"
            + " also answer the declared BYTES output 'predicted_class'.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Oip.InferRequest.class)))
    @APIResponse(responseCode = "200", description = "Outputs of the model",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Oip.InferResponse.class)))
    @APIResponse(responseCode = "400", description = "The inputs do not fit the model: {\"error\": \"...\"}")
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "413", description = "Body over quarkus.http.limits.max-body-size")
    @APIResponse(responseCode = "503", description = "No version loaded yet")
    @NonBlocking
    public Uni<Response> infer(@PathParam("model") String model, @HeaderParam(BinaryTensors.HEADER_LENGTH) String headerLength,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, RoutingContext routing) throws IOException {
        // RequestBodies has received the body whole, so reading and parsing it here on the event loop blocks nothing.
        ServedModel served = paths.model(model);
        Buffer body = routing.body().buffer();
        Oip.InferRequest request = BinaryTensors.read(json, body == null ? new byte[0] : body.getBytes(), headerLength, contentType,
                buffers);
        if (served.gathers(rows(request))) {
            // Dynamic batching: the request waits for its batch without holding a thread, and is
            // answered from the thread that ran the batch (or here, when it ran alone and short). A
            // short request's batch runs on this event loop, a long one's on a worker: where the
            // request would have run without batching.
            String id = ServedPredictions.id(request.id());
            Executor workers = Infrastructure.getDefaultWorkerPool();
            Context loop = Vertx.currentContext();
            Executor callerLoop = loop == null ? workers : task -> loop.runOnContext(ignored -> task.run());
            RequestTensors tensors = new RequestTensors(predictions);
            return Uni.createFrom().completionStage(() -> predictions.predictAsync(served, id, tensors.translatedBy(translate(request)),
                    inlineRunNanos, callerLoop, workers))
                    .map(prediction -> tensors.recycleAfter(prediction, respond(served, request, prediction, id)));
        }
        if (served.runsWithin(rows(request), inlineRunNanos)) {
            // A short run costs less than the two thread hand-overs a worker would add. The prediction
            // log's files are written by its own thread, so it does not keep the request off the event loop.
            return Uni.createFrom().item(run(served.name(), OptionalInt.empty(), request));
        }
        return Uni.createFrom().item(() -> run(served.name(), OptionalInt.empty(), request))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    @POST
    @Path("/models/{model}/versions/{version}/infer")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
    @Operation(summary = "Run a retained version", description = "Loads the version on demand when it is not the active one.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Oip.InferRequest.class)))
    @APIResponse(responseCode = "200", description = "Outputs of the model",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Oip.InferResponse.class)))
    @APIResponse(responseCode = "400", description = "The inputs do not fit the model: {\"error\": \"...\"}")
    @APIResponse(responseCode = "404", description = "Unknown model or version")
    public Response inferVersion(@PathParam("model") String model, @PathParam("version") String version,
            @HeaderParam(BinaryTensors.HEADER_LENGTH) String headerLength,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, InputStream body) throws IOException {
        ServedModel served = paths.model(model);
        OptionalInt wanted = ModelPaths.optionalVersion(version);
        return run(served.name(), wanted, BinaryTensors.read(json, body.readAllBytes(), headerLength, contentType, buffers));
    }

    private Response run(String model, OptionalInt version, Oip.InferRequest request) {
        ServedModel served = paths.model(model);
        String id = ServedPredictions.id(request.id());
        RequestTensors tensors = new RequestTensors(predictions);
        Prediction prediction = predictions.predict(served, version, id, tensors.translatedBy(translate(request)));
        return tensors.recycleAfter(prediction, respond(served, request, prediction, id));
    }

    /** The request's inputs as tensors for a signature; those read with {@link #buffers} borrowed their buffers ({@link RequestTensors}). */
    private Function<ModelSignature, List<NamedTensor>> translate(Oip.InferRequest request) {
        return signature -> translator.fromTensors(signature.inputs(), request.tensorInputs());
    }

    private Response respond(ServedModel served, Oip.InferRequest request, Prediction prediction, String id) {
        try {
            return BinaryTensors.write(json, Oip.InferResponse.of(served.name(), request, prediction, id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The batch size the request declares, or 0 when it declares none (it then fails validation, or runs on a worker). */
    private static int rows(Oip.InferRequest request) {
        if (request.inputs() == null || request.inputs().isEmpty() || request.inputs().get(0) == null) {
            return 0;
        }
        List<Long> shape = request.inputs().get(0).shape();
        return shape == null || shape.isEmpty() || shape.get(0) == null || shape.get(0) < 1 || shape.get(0) > Integer.MAX_VALUE
                ? 0 : shape.get(0).intValue();
    }
}
