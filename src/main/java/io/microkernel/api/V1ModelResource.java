package io.microkernel.api;

import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.serving.ServedModel;
import io.microkernel.store.ModelVersion;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.OptionalInt;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** TF Serving / KServe v1: row predictions, model status, version history and activation. */
@Path("/v1/models")
@Tag(name = "Models (v1)", description = "TF Serving / KServe v1 predictions, versions and activation")
@Produces(MediaType.APPLICATION_JSON)
public class V1ModelResource {

    @Inject
    ModelPaths paths;

    @Inject
    RequestTranslator translator;

    /**
     * {@code POST /v1/models/{model}:predict}. JAX-RS templates cannot put a literal after a
     * parameter in one segment, so the segment is matched whole and split here.
     */
    @POST
    @Path("/{model}")
    @Consumes(MediaType.APPLICATION_JSON)
    @InferenceEndpoint
    @Operation(summary = "Predict rows", description = "{\"instances\":[...]} in, {\"predictions\":[...]} out."
            + " A multi-input model takes each instance as {\"inputName\": value}. Classifiers answer"
            + " {\"class\", \"class_index\", \"scores\"} per row.")
    @APIResponse(responseCode = "200", description = "One prediction per instance")
    @APIResponse(responseCode = "400", description = "The instances do not fit the model",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "503", description = "No version loaded")
    public V1.PredictResponse predict(@PathParam("model") String segment, V1.PredictRequest request) {
        ServedModel served = paths.model(ModelPaths.beforeVerb(segment, "predict"));
        if (request == null || request.instances() == null) {
            String found = request != null && request.inputs() != null ? "the columnar 'inputs' form, which is not supported" : "none";
            throw new InputValidationException(InputProblem.MALFORMED, "expected {\"instances\": [...]}, found " + found);
        }
        Prediction prediction = served.predict(OptionalInt.empty(),
                signature -> translator.fromInstances(signature.inputs(), request.instances()));
        return V1.PredictResponse.of(prediction);
    }

    @GET
    @Path("/{model}")
    @Operation(summary = "Model status (TF Serving)", description = "The active version is AVAILABLE; other retained versions are END (not loaded).")
    @APIResponse(responseCode = "404", description = "Unknown model")
    public V1.ModelStatus status(@PathParam("model") String model) {
        ServedModel served = paths.model(model);
        OptionalInt active = served.activeVersion();
        List<V1.VersionStatus> versions = served.store().versions().stream()
                .sorted((a, b) -> Integer.compare(b.version(), a.version()))
                .map(v -> new V1.VersionStatus(Integer.toString(v.version()),
                        active.isPresent() && active.getAsInt() == v.version() ? "AVAILABLE" : "END",
                        new V1.Status("OK", "")))
                .toList();
        return new V1.ModelStatus(versions);
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
    @Operation(summary = "One version with lineage, metrics, file hashes and creation time")
    @APIResponse(responseCode = "404", description = "Unknown model or version")
    public V1.VersionInfo version(@PathParam("model") String model, @PathParam("version") String version) {
        ServedModel served = paths.model(model);
        ModelVersion found = served.store().version(ModelPaths.version(version));
        OptionalInt active = served.activeVersion();
        return V1.VersionInfo.of(found, active.isPresent() && active.getAsInt() == found.version());
    }

    /** {@code POST /v1/models/{model}/versions/{version}:activate}; the segment is split as for predict. */
    @POST
    @Path("/{model}/versions/{version}")
    @Mutating
    @Operation(summary = "Activate a retained version (roll back or forward)", description = "Loads and warms the version,"
            + " then switches serving to it atomically; requests in flight finish on the version they started with."
            + " Loopback clients need no credentials; others need 'Authorization: Bearer <microkernel.api.token>'.")
    @APIResponse(responseCode = "200", description = "The version now active, and the one before")
    @APIResponse(responseCode = "401", description = "Not loopback and no valid token")
    @APIResponse(responseCode = "404", description = "Unknown model or version")
    @APIResponse(responseCode = "409", description = "The version does not load; serving is unchanged")
    public V1.Activation activate(@PathParam("model") String model, @PathParam("version") String segment) {
        ServedModel served = paths.model(model);
        int version = ModelPaths.version(ModelPaths.beforeVerb(segment, "activate"));
        OptionalInt previous = served.activeVersion();
        ModelVersion now = served.swap(version);
        return new V1.Activation(served.name(), now.version(), previous.isPresent() ? previous.getAsInt() : null);
    }
}
