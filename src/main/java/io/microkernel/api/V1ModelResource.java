package io.microkernel.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.ModelSignature;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.serving.ServedModel;
import io.microkernel.store.ModelVersion;
import io.microkernel.tensor.BufferPool;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * TF Serving's REST API and KServe v1: model status, metadata, {@code :predict} (row and columnar
 * formats), {@code :classify}; and the project's version history and activation.
 */
@Path("/v1/models")
@Tag(name = "Models (v1)", description = "TF Serving / KServe v1 predictions, status and metadata; versions and activation")
@Produces(MediaType.APPLICATION_JSON)
public class V1ModelResource {

    @Inject
    ModelPaths paths;

    @Inject
    io.microkernel.serving.VersionActivation activation;

    @Inject
    RequestTranslator translator;

    @Inject
    ObjectMapper json;

    @Inject
    ServedPredictions predictions;

    /** The pool request inputs are read into ({@link RequestBuffers}); each request gives its tensors back ({@link RequestTensors}). */
    @Inject
    BufferPool buffers;

    @Inject
    io.microkernel.drift.Drift drift;

    /**
     * {@code POST /v1/models/{model}:predict} and {@code :classify}. JAX-RS templates cannot put a
     * literal after a parameter in one segment, so the segment is matched whole and split here.
     */
    @POST
    @Path("/{model}")
    @Consumes(MediaType.WILDCARD)
    @InferenceEndpoint
    @Operation(summary = "Predict (row or columnar) or classify", description = "':predict': {\"instances\":[...]} in,"
            + " {\"predictions\":[...]} out, or {\"inputs\":...} in, {\"outputs\":...} out, the model's output values."
            + " ':classify': {\"examples\":[{\"input\":...}]} in, {\"result\":[[[label, score], ...]]} out, for classifiers."
            + " signature_name must be 'serving_default' or absent.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = V1.PredictRequest.class)))
    @APIResponse(responseCode = "200", description = "Predictions or classification results")
    @APIResponse(responseCode = "400", description = "The request does not fit the model: {\"error\": \"...\"}")
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "503", description = "No version loaded")
    public Object predict(@PathParam("model") String segment, InputStream body) throws IOException {
        ModelPaths.VerbPath path = ModelPaths.verb(segment, "predict", "classify");
        return answer(paths.model(path.target()), OptionalInt.empty(), path.verb(), body.readAllBytes());
    }

    private Object answer(ServedModel served, OptionalInt version, String verb, byte[] body) throws IOException {
        if (verb.equals("classify")) {
            V1.ClassifyRequest request = BinaryTensors.strict(json, body, V1.ClassifyRequest.class);
            V1.checkSignature(request.signatureName());
            AtomicReference<ModelSignature> answering = new AtomicReference<>();
            RequestTensors tensors = new RequestTensors(predictions);
            Prediction prediction = served.predict(version, tensors.translatedBy(signature -> {
                answering.set(signature);
                return translator.fromInstances(signature.inputs(), request.examples(), buffers);
            }));
            return tensors.recycleAfter(prediction, V1.ClassifyResponse.of(answering.get(), prediction));
        }
        V1.PredictRequest request = BinaryTensors.strict(json, body, V1.PredictRequest.class);
        V1.checkSignature(request.signatureName());
        if (request.instances() != null && request.inputs() != null) {
            throw new InputValidationException(InputProblem.MALFORMED,
                    "expected either 'instances' (row format) or 'inputs' (columnar format), found both");
        }
        String id = ServedPredictions.id(null);
        // The answer's values are boxed copies, so the tensors go back to the pool before it is written.
        RequestTensors tensors = new RequestTensors(predictions);
        if (request.inputs() != null) {
            Prediction prediction = predictions.predict(served, version, id,
                    tensors.translatedBy(signature -> translator.fromColumns(signature.inputs(), request.inputs(), buffers)));
            return tensors.recycleAfter(prediction, V1.ColumnarResponse.of(prediction, id));
        }
        if (request.instances() == null) {
            throw new InputValidationException(InputProblem.MALFORMED,
                    "expected 'instances' (row format) or 'inputs' (columnar format), found neither");
        }
        Prediction prediction = predictions.predict(served, version, id,
                tensors.translatedBy(signature -> translator.fromInstances(signature.inputs(), request.instances(), buffers)));
        return tensors.recycleAfter(prediction, V1.PredictResponse.of(prediction, id));
    }

    @GET
    @Operation(summary = "The models served (KServe v1): {\"models\": [name]}")
    public V1.ModelList models() {
        return new V1.ModelList(List.of(paths.servedName()));
    }

    @GET
    @Path("/{model}")
    @Operation(summary = "Model status (TF Serving) and readiness (KServe v1)", description = "The active version is AVAILABLE;"
            + " other retained versions are END (not loaded). 'name' and 'ready' are KServe v1's; 503 while not ready.")
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "503", description = "No version loaded")
    public Response status(@PathParam("model") String model) {
        ServedModel served = paths.model(model);
        OptionalInt active = served.activeVersion();
        List<V1.VersionStatus> versions = served.store().versions().stream()
                .sorted((a, b) -> Integer.compare(b.version(), a.version()))
                .map(v -> V1.VersionStatus.of(v, active)).toList();
        boolean ready = served.isReady();
        return Response.status(ready ? 200 : 503).type(MediaType.APPLICATION_JSON)
                .entity(new V1.ModelStatus(served.name(), ready, versions, drift.report().orElse(null))).build();
    }

    @GET
    @Path("/{model}/metadata")
    @Operation(summary = "Model metadata (TF Serving): the serving_default signature def of the active version")
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "503", description = "No version loaded")
    public V1.Metadata metadata(@PathParam("model") String model) {
        ServedModel served = paths.model(model);
        return served.withModel(OptionalInt.empty(), loaded -> V1.Metadata.of(served.name(), loaded.version(), loaded.signature()));
    }

    @GET
    @Path("/{model}/versions")
    @Operation(summary = "Version history with lineage, metrics, file hashes and creation time")
    @APIResponse(responseCode = "404", description = "Unknown model")
    public V1.VersionList versions(@PathParam("model") String model) {
        ServedModel served = paths.model(model);
        OptionalInt active = served.activeVersion();
        List<V1.VersionInfo> versions = served.store().versions().stream()
                .map(v -> V1.VersionInfo.of(v, active.isPresent() && active.getAsInt() == v.version())).toList();
        return new V1.VersionList(served.name(), active.isPresent() ? active.getAsInt() : null, versions);
    }

    @GET
    @Path("/{model}/versions/{version}")
    @Operation(summary = "TF Serving's status of one version, with its lineage, metrics, file hashes and creation time beside it")
    @APIResponse(responseCode = "404", description = "Unknown model or version")
    public V1.VersionStatusWithLineage version(@PathParam("model") String model, @PathParam("version") String version) {
        ServedModel served = paths.model(model);
        ModelVersion found = served.store().version(ModelPaths.version(version));
        OptionalInt active = served.activeVersion();
        return new V1.VersionStatusWithLineage(List.of(V1.VersionStatus.of(found, active)),
                V1.VersionInfo.of(found, active.isPresent() && active.getAsInt() == found.version()));
    }

    /**
     * {@code POST /v1/models/{model}/versions/{version}:activate}, {@code :predict} and {@code :classify};
     * the segment is split as for predict. {@code AccessFilter} treats the inference verbs as inference.
     */
    @POST
    @Path("/{model}/versions/{version}")
    @Consumes(MediaType.WILDCARD)
    @Mutating
    @Operation(summary = "Activate a retained version (roll back or forward), or predict/classify with it", description =
            "':activate' loads and warms the version, then switches serving to it atomically; requests in flight finish on"
            + " the version they started with. Loopback clients need no credentials; others need"
            + " 'Authorization: Bearer <microkernel.api.token>'. ':predict' and ':classify' are TF Serving's, on that version.")
    @APIResponse(responseCode = "200", description = "The version now active and the one before; or the predictions")
    @APIResponse(responseCode = "401", description = "Not loopback and no valid token")
    @APIResponse(responseCode = "404", description = "Unknown model or version")
    @APIResponse(responseCode = "409", description = "The version does not load; serving is unchanged")
    public Object onVersion(@PathParam("model") String model, @PathParam("version") String segment, InputStream body)
            throws IOException {
        ServedModel served = paths.model(model);
        ModelPaths.VerbPath path = ModelPaths.verb(segment, "activate", "predict", "classify");
        int version = ModelPaths.version(path.target());
        if (!path.verb().equals("activate")) {
            return answer(served, OptionalInt.of(version), path.verb(), body.readAllBytes());
        }
        OptionalInt previous = served.activeVersion();
        ModelVersion now = activation.activate(version);
        return new V1.Activation(served.name(), now.version(), previous.isPresent() ? previous.getAsInt() : null);
    }
}
