package io.microkernel.api;

import io.microkernel.serving.LoadedModel;
import io.microkernel.serving.ModelNotReadyException;
import io.microkernel.serving.ModelSignature;
import io.microkernel.serving.ServedModel;
import io.microkernel.store.ModelVersion;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Open Inference Protocol v2 server and model metadata and health. */
@Path("/v2")
@Tag(name = "Metadata and health (v2)", description = "Open Inference Protocol v2 metadata and health")
@Produces(MediaType.APPLICATION_JSON)
public class MetadataResource {

    @Inject
    ModelPaths paths;

    @Inject
    ServedModel served;

    @GET
    @Operation(summary = "Server metadata")
    public Oip.ServerMetadata server() {
        return new Oip.ServerMetadata("onnx-microkernel", MetadataResource.class.getPackage().getImplementationVersion() != null
                ? MetadataResource.class.getPackage().getImplementationVersion() : "0.1.0", List.of("binary_tensor_data"));
    }

    @GET
    @Path("/health/live")
    @Operation(summary = "Liveness: 200 while the process runs")
    public Oip.Liveness live() {
        return new Oip.Liveness(true);
    }

    @GET
    @Path("/health/ready")
    @Operation(summary = "Readiness: 200 while a version is served, else 503")
    @APIResponse(responseCode = "503", description = "No version loaded")
    public Response ready() {
        return readiness(served.name());
    }

    @GET
    @Path("/models/{model}")
    @Operation(summary = "Model metadata of the active version: versions, inputs, outputs (with 'predicted_class' for classifiers), classes")
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "503", description = "No version loaded")
    public Oip.ModelMetadata model(@PathParam("model") String model) {
        ServedModel target = paths.model(model);
        ModelSignature signature = target.signature().orElseThrow(() -> new ModelNotReadyException(
                "model '" + model + "' is not ready: expected a loaded version, found none"
                        + target.notReadyReason().map(r -> "; start-up says: " + r).orElse("")));
        return metadata(target, signature);
    }

    @GET
    @Path("/models/{model}/versions/{version}")
    @Operation(summary = "Model metadata of one retained version", description = "Loads the version on demand when it is not the active one.")
    @APIResponse(responseCode = "404", description = "Unknown model or version")
    public Oip.ModelMetadata modelVersion(@PathParam("model") String model, @PathParam("version") String version) {
        ServedModel target = paths.model(model);
        return metadata(target, target.withModel(ModelPaths.optionalVersion(version), LoadedModel::signature));
    }

    private static Oip.ModelMetadata metadata(ServedModel target, ModelSignature signature) {
        List<String> versions = target.store().versions().stream().map(ModelVersion::version).map(String::valueOf).toList();
        return new Oip.ModelMetadata(target.name(), versions, "onnxruntime_onnx",
                signature.inputs().stream().map(Oip.TensorMetadata::of).toList(),
                Oip.declaredOutputs(signature), signature.classNames());
    }

    @GET
    @Path("/models/{model}/ready")
    @Operation(summary = "Model readiness: 200 while a version is served, else 503")
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "503", description = "No version loaded")
    public Response modelReady(@PathParam("model") String model) {
        return readiness(paths.model(model).name());
    }

    @GET
    @Path("/models/{model}/versions/{version}/ready")
    @Operation(summary = "Version readiness: 200 while the model is served and the version is retained (it loads on demand), else 503")
    @APIResponse(responseCode = "404", description = "Unknown model or version")
    @APIResponse(responseCode = "503", description = "No version loaded")
    public Response versionReady(@PathParam("model") String model, @PathParam("version") String version) {
        ServedModel target = paths.model(model);
        target.store().version(ModelPaths.version(version));
        return readiness(target.name());
    }

    private Response readiness(String name) {
        boolean ready = served.isReady();
        Object body = served.notReadyReason()
                .<Object>map(reason -> java.util.Map.of("name", name, "ready", false, "reason", reason))
                .orElseGet(() -> new Oip.Readiness(name, ready));
        return Response.status(ready ? 200 : 503).type(MediaType.APPLICATION_JSON).entity(body).build();
    }
}
