package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.ParameterSpec;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.serving.FleetServing;
import io.microkernel.serving.ServedModel;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The few read-only facts the operators' console ({@code /console}) needs beyond the public API: the
 * runtime and parameter counts of the model, the replicas and the versions they serve, and whether
 * this client may press the buttons that change state.
 */
@Path("/console/api")
@Tag(name = "Console", description = "Read-only facts for the operators' console at /console")
@Produces(MediaType.APPLICATION_JSON)
public class ConsoleResource {

    @Inject
    ModelPaths paths;

    @Inject
    AccessGuard guard;

    @Inject
    MicrokernelConfig config;

    @Inject
    ServedModel served;

    @Inject
    FleetServing fleetServing;

    @Inject
    OrtRuntime runtime;

    /** The base artifact set's description, read once: every version shares its graphs. */
    private final AtomicReference<ArtifactDescription> description = new AtomicReference<>();

    /** What {@code GET /console/api/models/{m}/overview} answers. */
    public record Overview(
            String model,
            @JsonProperty("active_version") Integer activeVersion,
            String device,
            @JsonProperty("device_id") int deviceId,
            @JsonProperty("onnxruntime_java") String onnxRuntimeJava,
            @JsonProperty("onnxruntime_native") String onnxRuntimeNative,
            String loss,
            String label,
            @JsonProperty("inference_output") String inferenceOutput,
            List<String> classes,
            @JsonProperty("trainable_parameters") Parameters trainable,
            @JsonProperty("frozen_parameters") Parameters frozen) {
    }

    /** A group of parameters: how many values in all, and each tensor. */
    public record Parameters(long values, List<ParameterSpec> tensors) {
        static Parameters of(List<ParameterSpec> specs) {
            return new Parameters(specs.stream().mapToLong(ParameterSpec::count).sum(), specs);
        }
    }

    /**
     * The replicas serving a model. A single process lists itself ({@code mode} "single"); a fleet
     * ("fleet") lists every replica whose heartbeat in the fleet's replica registry is current, with
     * the version each serves, in the same shape.
     */
    public record Replicas(String model, String mode, List<Replica> replicas,
            @JsonInclude(JsonInclude.Include.NON_NULL) String problem) {
    }

    /**
     * One replica and the version it serves ({@code null} while it serves none). In fleet mode also
     * its role ({@code trainer-eligible} or {@code serve-only}), whether it holds the trainer lease and
     * when its last heartbeat was stored; those are absent outside a fleet.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Replica(String name, boolean self, boolean ready, @JsonInclude(JsonInclude.Include.ALWAYS) Integer version,
            String role, Boolean trainer, @JsonProperty("last_seen") String lastSeen) {
    }

    /**
     * Whether the asking client may call the state-changing endpoints with the credentials it sent.
     *
     * @param allowed        whether it may
     * @param client         its address as the server sees it
     * @param tokenAccepted  whether a token is configured, so entering one can help
     * @param reason         why not, as the endpoints would answer; absent when allowed
     */
    public record Access(boolean allowed, String client, @JsonProperty("token_accepted") boolean tokenAccepted,
            String reason) {
    }

    /** The models this process serves, so the console needs no configuration of its own. */
    public record Models(List<String> models) {
    }

    @GET
    @Path("/models")
    @Operation(summary = "The names of the models this process serves")
    public Models models() {
        return new Models(List.of(served.name()));
    }

    @GET
    @Path("/models/{model}/overview")
    @Operation(summary = "Runtime, device, loss and trainable/frozen parameters of the served model")
    @APIResponse(responseCode = "404", description = "Unknown model")
    public Overview overview(@PathParam("model") String model) {
        ServedModel served = paths.model(model);
        ArtifactDescription described = description.updateAndGet(d -> d != null ? d
                : ArtifactSet.open(served.store().baseDir()).description());
        OptionalInt active = served.activeVersion();
        return new Overview(served.name(), active.isPresent() ? active.getAsInt() : null, config.device(),
                config.deviceId(), OrtRuntime.expectedVersion(), runtime.nativeVersion(), described.loss().name()
                        .toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
                described.label().name(), described.inferenceOutput(), described.classNames(),
                Parameters.of(described.trainable()), Parameters.of(described.frozen()));
    }

    @GET
    @Path("/models/{model}/replicas")
    @Operation(summary = "The replicas serving the model and the version each serves (this process alone outside a fleet)",
            description = "In fleet mode every replica whose heartbeat is current, with its role, whether it holds the"
                    + " trainer lease and when it was last seen; while NATS cannot be reached, this replica alone and"
                    + " the problem.")
    @APIResponse(responseCode = "404", description = "Unknown model")
    public Replicas replicas(@PathParam("model") String model) {
        ServedModel served = paths.model(model);
        Optional<FleetServing.Replicas> fleet = fleetServing.replicas();
        if (fleet.isPresent()) {
            String self = fleet.get().self();
            return new Replicas(served.name(), "fleet", fleet.get().members().stream()
                    .map(m -> new Replica(m.replica(), m.replica().equals(self), m.ready(), m.version(), m.role(),
                            m.trainer(), m.lastSeen() == null ? null : m.lastSeen().toString()))
                    .toList(), fleet.get().problem());
        }
        OptionalInt active = served.activeVersion();
        String name = Optional.ofNullable(System.getenv("HOSTNAME")).filter(h -> !h.isBlank()).orElse("this process");
        return new Replicas(served.name(), "single", List.of(new Replica(name, true, served.isReady(),
                active.isPresent() ? active.getAsInt() : null, null, null, null)), null);
    }

    @GET
    @Path("/access")
    @Operation(summary = "Whether this client, with the Authorization header it sent, may call the state-changing endpoints")
    public Access access(@Context HttpServerRequest request, @Context HttpHeaders headers) {
        SocketAddress peer = request.remoteAddress();
        String client = peer == null ? null : peer.hostAddress();
        Optional<String> refusal = guard.refusal(client, headers.getHeaderString(HttpHeaders.AUTHORIZATION));
        return new Access(refusal.isEmpty(), client, guard.acceptsToken(), refusal.orElse(null));
    }
}
