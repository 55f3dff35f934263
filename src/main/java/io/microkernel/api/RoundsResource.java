package io.microkernel.api;

import io.microkernel.training.FleetTraining;
import io.microkernel.training.RoundOverrides;
import io.microkernel.training.RoundRecord;
import io.microkernel.training.RoundRecords;
import io.microkernel.training.RoundRouting;
import io.microkernel.training.RoundScheduler;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import java.util.List;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.function.Consumer;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestStreamElementType;

/** Training rounds: start one, list and inspect them, follow one's progress, cancel one. */
@Path("/v1/models/{model}/rounds")
@Tag(name = "Training", description = "Labelled samples and training rounds")
@Produces(MediaType.APPLICATION_JSON)
public class RoundsResource {

    @Inject
    ModelPaths paths;

    @Inject
    RoundScheduler scheduler;

    @Inject
    FleetTraining fleetTraining;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Mutating
    @Operation(summary = "Start a training round now", description = "Optional overrides: epochs, batch_size,"
            + " learning_rate, seed. The round trains from the active version, scores candidate and active on the"
            + " holdout, and promotes the candidate only when the gate accepts it.")
    @APIResponse(responseCode = "202", description = "Queued; follow it at the Location")
    @APIResponse(responseCode = "400", description = "An override is out of range",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "401", description = "Not loopback and no valid token")
    @APIResponse(responseCode = "404", description = "Unknown model")
    @APIResponse(responseCode = "409", description = "A round is already running (named in the detail), or too few samples")
    @APIResponse(responseCode = "503", description = "No version is served to train from")
    public Response start(@PathParam("model") String model, TrainingApi.RoundRequest request, @jakarta.ws.rs.core.Context UriInfo uri) {
        paths.model(model);
        RoundOverrides overrides = request == null ? RoundOverrides.NONE
                : RoundOverrides.of(wholeInt("epochs", request.epochs()), wholeInt("batch_size", request.batchSize()),
                        request.learningRate(), wholeLong("seed", request.seed()));
        RoundRecord queued = scheduler.start("manual", overrides);
        return Response.accepted(queued)
                .location(uri.getAbsolutePathBuilder().path(Long.toString(queued.id())).build()).build();
    }

    @GET
    @Operation(summary = "Round history", description = "Rounds oldest first, with state, metrics and decision, a"
            + " page at a time: ?limit= (1 to 1000, default 100) and ?after= (a round id); next names the after of the"
            + " next page when there is one.")
    @APIResponse(responseCode = "404", description = "Unknown model")
    public TrainingApi.RoundList list(@PathParam("model") String model, @QueryParam("limit") String limitParam,
            @QueryParam("after") String afterParam) {
        paths.model(model);
        int limit = limitParam == null ? DEFAULT_PAGE : (int) queryNumber("limit", limitParam, 1, MAX_PAGE);
        long after = afterParam == null ? 0 : queryNumber("after", afterParam, 0, Long.MAX_VALUE);
        Long running = scheduler.current().map(RoundRecord::id).orElse(null);
        List<RoundRecord> page = scheduler.records().page(after, limit + 1);
        Long next = page.size() > limit ? page.get(limit - 1).id() : null;
        return new TrainingApi.RoundList(model, running, page.subList(0, Math.min(limit, page.size())), next);
    }

    static final int DEFAULT_PAGE = 100;
    static final int MAX_PAGE = 1000;

    private static long queryNumber(String name, String text, long min, long max) {
        try {
            long value = Long.parseLong(text.trim());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new io.microkernel.problem.ProblemException(io.microkernel.problem.ProblemType.INVALID_ROUND_REQUEST,
                name + ": expected a whole number in [" + min + ", " + max + "], found '" + text + "'");
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "One round", description = "State, progress (epoch, step, running loss), active and"
            + " candidate metrics, and the gate's decision with its numbers.")
    @APIResponse(responseCode = "404", description = "Unknown model or round")
    public RoundRecord get(@PathParam("model") String model, @PathParam("id") String id) {
        paths.model(model);
        return scheduler.find(roundId(id));
    }

    @GET
    @Path("/{id}/events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    @Operation(summary = "Follow one round", description = "Server-sent events: the round record now, then on every"
            + " change of state or progress; the stream ends when the round does.")
    @APIResponse(responseCode = "404", description = "Unknown model or round")
    public Multi<RoundRecord> events(@PathParam("model") String model, @PathParam("id") String id) {
        paths.model(model);
        long roundId = roundId(id);
        RoundRecord now = scheduler.find(roundId);
        RoundRecords records = scheduler.records();
        return Multi.createFrom().emitter(emitter -> {
            Consumer<RoundRecord> listener = record -> {
                if (record.id() == roundId) {
                    emitter.emit(record);
                    if (record.state().isFinal()) {
                        emitter.complete();
                    }
                }
            };
            records.addListener(listener);
            emitter.onTermination(() -> records.removeListener(listener));
            // Read again after subscribing, so a change between the lookup and here is not missed.
            RoundRecord latest = records.find(roundId).orElse(now);
            emitter.emit(latest);
            if (latest.state().isFinal()) {
                emitter.complete();
            }
        });
    }

    @DELETE
    @Path("/{id}")
    @Mutating
    @Operation(summary = "Cancel a round", description = "The round stops at its next step and ends as cancelled;"
            + " nothing is published. In fleet mode any replica forwards the cancel to the trainer.")
    @APIResponse(responseCode = "202", description = "Cancel requested")
    @APIResponse(responseCode = "401", description = "Not loopback and no valid token")
    @APIResponse(responseCode = "404", description = "Unknown model or round")
    @APIResponse(responseCode = "409", description = "The round already finished")
    @APIResponse(responseCode = "503", description = "Fleet mode: no trainer answered (NATS away or a takeover under way)")
    public Response cancel(@PathParam("model") String model, @PathParam("id") String id) {
        paths.model(model);
        long roundId = roundId(id);
        // In fleet mode rounds run on the trainer lease's holder: a cancel asked for elsewhere goes there.
        RoundRouting routing = fleetTraining.routing();
        return Response.accepted(routing.trainsHere() ? scheduler.cancel(roundId) : routing.forwardCancel(roundId)).build();
    }

    private static long roundId(String text) {
        if (text == null || !text.matches("[1-9][0-9]{0,17}")) {
            throw new NotFoundException("expected a round id such as 1, found '" + text + "'");
        }
        return Long.parseLong(text);
    }

    private static Integer wholeInt(String name, Number value) {
        if (value == null) {
            return null;
        }
        try {
            return new java.math.BigDecimal(value.toString()).intValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw new io.microkernel.problem.ProblemException(io.microkernel.problem.ProblemType.INVALID_ROUND_REQUEST,
                    name + ": expected a whole number, found " + value);
        }
    }

    private static Long wholeLong(String name, Number value) {
        if (value == null) {
            return null;
        }
        try {
            return new java.math.BigDecimal(value.toString()).longValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw new io.microkernel.problem.ProblemException(io.microkernel.problem.ProblemType.INVALID_ROUND_REQUEST,
                    name + ": expected a whole number, found " + value);
        }
    }
}
