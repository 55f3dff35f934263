package io.microkernel.api;

import io.microkernel.serving.Prediction;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.serving.ServedModel;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.OptionalInt;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Open Inference Protocol v2 inference. */
@Path("/v2")
@Tag(name = "Inference (v2)", description = "Open Inference Protocol v2 (KServe, Triton)")
@Consumes(MediaType.APPLICATION_JSON)
@Produces(MediaType.APPLICATION_JSON)
@InferenceEndpoint
public class InferenceResource {

    @Inject
    ModelPaths paths;

    @Inject
    RequestTranslator translator;

    @POST
    @Path("/models/{model}/infer")
    @Operation(summary = "Run the active version", description = "Inputs as OIP tensors (FP32, FP64, INT32, INT64, BOOL);"
            + " the answer names the version that ran. Classifiers get an extra BYTES output 'predicted_class'.")
    @APIResponse(responseCode = "200", description = "Outputs of the model")
    @APIResponse(responseCode = "400", description = "The inputs do not fit the model",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "413", description = "Body over quarkus.http.limits.max-body-size")
    @APIResponse(responseCode = "503", description = "No version loaded yet")
    public Oip.InferResponse infer(@PathParam("model") String model, Oip.InferRequest request) {
        return run(model, OptionalInt.empty(), request);
    }

    @POST
    @Path("/models/{model}/versions/{version}/infer")
    @Operation(summary = "Run a retained version", description = "Loads the version on demand when it is not the active one.")
    @APIResponse(responseCode = "200", description = "Outputs of the model")
    @APIResponse(responseCode = "400", description = "The inputs do not fit the model",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "Unknown model or version")
    public Oip.InferResponse inferVersion(@PathParam("model") String model, @PathParam("version") String version,
            Oip.InferRequest request) {
        return run(model, ModelPaths.optionalVersion(version), request);
    }

    private Oip.InferResponse run(String model, OptionalInt version, Oip.InferRequest request) {
        ServedModel served = paths.model(model);
        Oip.InferRequest body = request != null ? request : new Oip.InferRequest(null, null, null, null);
        Prediction prediction = served.predict(version, signature -> translator.fromTensors(signature.inputs(), body.tensorInputs()));
        return Oip.InferResponse.of(served.name(), body.id(), prediction, body.outputs());
    }
}
