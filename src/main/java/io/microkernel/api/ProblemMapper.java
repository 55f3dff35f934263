package io.microkernel.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.util.Locale;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The one place where exceptions become HTTP answers: every error is an
 * {@code application/problem+json} document that says what was expected and what was found.
 * Bad requests are 4xx; only failures of the server itself are 5xx. The project's own failures
 * are all {@link ProblemException}s and have one mapper; the others map exceptions from outside
 * the project (JSON parsing, JAX-RS, anything unexpected).
 */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    /**
     * Every failure the service knows by type: the status, title and slug come from its
     * {@link ProblemType}, the detail from its message, and headers (Retry-After, WWW-Authenticate)
     * from the exception. Failures of the server itself (500) are logged; 503 is a state, not a failure.
     */
    @ServerExceptionMapper
    public Response knownProblem(ProblemException e) {
        ProblemType type = e.type();
        if (type.status() == 500) {
            LOG.errorf("%s: %s", type.title().toLowerCase(Locale.ROOT), e.getMessage());
            LOG.debug("cause", e);
        }
        Response.ResponseBuilder response = Response.status(type.status()).type(Problem.MEDIA_TYPE)
                .entity(Problem.of(type, e.getMessage()));
        e.headers().forEach(response::header);
        return response.build();
    }

    /** Takes precedence over the JSON extension's own mapper, which answers in a different format. */
    @ServerExceptionMapper(priority = jakarta.ws.rs.Priorities.USER - 100)
    public Response mismatchedJson(MismatchedInputException e) {
        return malformedJson(e);
    }

    @ServerExceptionMapper(priority = jakarta.ws.rs.Priorities.USER - 100)
    public Response malformedJson(JsonProcessingException e) {
        return problem(Problem.of(ProblemType.MALFORMED_REQUEST, jsonDetail(e)));
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return malformedJson(json);
        }
        int status = e.getResponse().getStatus();
        Response.Status known = Response.Status.fromStatusCode(status);
        String title = known != null ? known.getReasonPhrase() : "HTTP " + status;
        String detail = status == 413
                ? "expected a body within quarkus.http.limits.max-body-size, found a larger one"
                : e.getMessage();
        return problem(Problem.of(title.toLowerCase(Locale.ROOT).replace(' ', '-'), title, status, detail));
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e) {
        if (RequestBodies.isDisconnect(e)) {
            // The client left; nobody reads the answer, and it is no failure of the server.
            LOG.debugf("client disconnected while its request was answered: %s", e);
            return Response.status(RequestBodies.CLIENT_CLOSED).build();
        }
        LOG.error("unexpected error while answering a request", e);
        return problem(Problem.of("internal-error", "Internal error", 500,
                "expected to answer the request, found an internal error: " + e.getClass().getSimpleName()));
    }

    static Response problem(Problem problem) {
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).entity(problem).build();
    }

    private static String jsonDetail(JsonProcessingException e) {
        String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
        if (e instanceof MismatchedInputException mismatch && !mismatch.getPath().isEmpty()) {
            String field = mismatch.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            return "expected valid JSON for '" + field + "', found " + e.getOriginalMessage() + where;
        }
        return "expected a JSON document, found " + e.getOriginalMessage() + where;
    }
}
