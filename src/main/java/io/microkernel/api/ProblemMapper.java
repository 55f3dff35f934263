package io.microkernel.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The one place where exceptions become HTTP answers: every error says what was expected and what
 * was found. On the inference protocols' routes (every {@code /v2} route; TF Serving and KServe v1
 * status, metadata, {@code :predict} and {@code :classify}) it is the {@code {"error": "..."}}
 * JSON those specs define, with the problem fields beside it; on the project's own learning routes
 * it is an {@code application/problem+json} document. Bad requests are 4xx; only failures of the
 * server itself are 5xx. The project's own failures
 * are all {@link ProblemException}s and have one mapper; the others map exceptions from outside
 * the project (JSON parsing, JAX-RS, anything unexpected).
 */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    /** Paths of the inference protocols, whose clients read {@code {"error": "..."}}. */
    private static final Pattern PROTOCOL_PATH = Pattern.compile(
            "/v2(/.*)?|/v1/models/[^/]+(:predict|:classify|/metadata|/versions/[^/:]+(:predict|:classify)?)?/?");

    /**
     * Every failure the service knows by type: the status, title and slug come from its
     * {@link ProblemType}, the detail from its message, and headers (Retry-After, WWW-Authenticate)
     * from the exception. Failures of the server itself (500) are logged; 503 is a state, not a failure.
     */
    @ServerExceptionMapper
    public Response knownProblem(ProblemException e, UriInfo uri) {
        ProblemType type = e.type();
        if (type.status() == 500) {
            LOG.errorf("%s: %s", type.title().toLowerCase(Locale.ROOT), e.getMessage());
            LOG.debug("cause", e);
        }
        Response.ResponseBuilder response = answer(Problem.of(type, e.getMessage()), uri);
        e.headers().forEach(response::header);
        return response.build();
    }

    /** Takes precedence over the JSON extension's own mapper, which answers in a different format. */
    @ServerExceptionMapper(priority = jakarta.ws.rs.Priorities.USER - 100)
    public Response mismatchedJson(MismatchedInputException e, UriInfo uri) {
        return malformedJson(e, uri);
    }

    @ServerExceptionMapper(priority = jakarta.ws.rs.Priorities.USER - 100)
    public Response malformedJson(JsonProcessingException e, UriInfo uri) {
        return answer(Problem.of(ProblemType.MALFORMED_REQUEST, jsonDetail(e)), uri).build();
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e, UriInfo uri) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return malformedJson(json, uri);
        }
        int status = e.getResponse().getStatus();
        Response.Status known = Response.Status.fromStatusCode(status);
        String title = known != null ? known.getReasonPhrase() : "HTTP " + status;
        String detail = status == 413
                ? "expected a body within quarkus.http.limits.max-body-size, found a larger one"
                : e.getMessage();
        return answer(Problem.of(title.toLowerCase(Locale.ROOT).replace(' ', '-'), title, status, detail), uri).build();
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e, UriInfo uri) {
        if (RequestBodies.isDisconnect(e)) {
            // The client left; nobody reads the answer, and it is no failure of the server.
            LOG.debugf("client disconnected while its request was answered: %s", e);
            return Response.status(RequestBodies.CLIENT_CLOSED).build();
        }
        LOG.error("unexpected error while answering a request", e);
        return answer(Problem.of("internal-error", "Internal error", 500,
                "expected to answer the request, found an internal error: " + e.getClass().getSimpleName()), uri).build();
    }

    /** The problem as its route's clients read it: {@code {"error": detail, ...problem}} on protocol routes. */
    static Response.ResponseBuilder answer(Problem problem, UriInfo uri) {
        String path = uri == null ? "" : uri.getPath();
        return Response.status(problem.status()).type(mediaType(path)).entity(body(problem, path));
    }

    /** Whether {@code path} is an inference protocol's route, whose clients read {@code {"error": "..."}}. */
    static boolean isProtocolPath(String path) {
        return PROTOCOL_PATH.matcher(path).matches();
    }

    static String mediaType(String path) {
        return isProtocolPath(path) ? MediaType.APPLICATION_JSON : Problem.MEDIA_TYPE;
    }

    /** The problem document, or on a protocol route {@code {"error": detail}} with type, title and status beside it. */
    static Object body(Problem problem, String path) {
        if (!isProtocolPath(path)) {
            return problem;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", problem.detail());
        body.put("type", problem.type());
        body.put("title", problem.title());
        body.put("status", problem.status());
        return body;
    }

    private static String jsonDetail(JsonProcessingException e) {
        String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
        if (e instanceof UnrecognizedPropertyException unknown) {
            return "expected only the fields " + new java.util.TreeSet<>(unknown.getKnownPropertyIds()) + ", found '" + unknown.getPropertyName() + "'" + where;
        }
        if (e instanceof MismatchedInputException mismatch && !mismatch.getPath().isEmpty()) {
            String field = mismatch.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            String message = e.getOriginalMessage();
            return message.contains("expected ") ? "'" + field + "' " + message + where
                    : "expected valid JSON for '" + field + "', found " + message + where;
        }
        return "expected a JSON document, found " + e.getOriginalMessage() + where;
    }
}
