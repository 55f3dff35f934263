package io.microkernel.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.microkernel.serving.InferenceFailedException;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.ModelLoadException;
import io.microkernel.serving.ModelNotReadyException;
import io.microkernel.store.StoreException;
import io.microkernel.store.VersionNotFoundException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The one place where exceptions become HTTP answers: every error is an
 * {@code application/problem+json} document that says what was expected and what was found.
 * Bad requests are 4xx; only failures of the server itself are 5xx.
 */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    @ServerExceptionMapper
    public Response invalidInput(InputValidationException e) {
        return problem(Problem.of(e.problem().slug(), e.problem().title(), 400, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response unknownModel(UnknownModelException e) {
        return problem(Problem.of("unknown-model", "Unknown model", 404, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response unknownVersion(VersionNotFoundException e) {
        return problem(Problem.of("unknown-version", "Unknown version", 404, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response notReady(ModelNotReadyException e) {
        return problem(Problem.of("model-not-ready", "Model not ready", 503, e.getMessage()), HttpHeaders.RETRY_AFTER, "5");
    }

    @ServerExceptionMapper
    public Response cannotLoad(ModelLoadException e) {
        return problem(Problem.of("version-does-not-load", "Version does not load", 409, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response accessDenied(AccessDeniedException e) {
        return problem(Problem.of("unauthorized", "Unauthorized", 401, e.getMessage()),
                HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"onnx-microkernel\"");
    }

    /** Takes precedence over the JSON extension's own mapper, which answers in a different format. */
    @ServerExceptionMapper(priority = jakarta.ws.rs.Priorities.USER - 100)
    public Response mismatchedJson(MismatchedInputException e) {
        return malformedJson(e);
    }

    @ServerExceptionMapper(priority = jakarta.ws.rs.Priorities.USER - 100)
    public Response malformedJson(JsonProcessingException e) {
        return problem(Problem.of("malformed-request", "Malformed request", 400, jsonDetail(e)));
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
        return problem(Problem.of(title.toLowerCase(java.util.Locale.ROOT).replace(' ', '-'), title, status, detail));
    }

    @ServerExceptionMapper
    public Response inferenceFailed(InferenceFailedException e) {
        LOG.errorf("inference failed: %s", e.getMessage());
        return problem(Problem.of("inference-failed", "Inference failed", 500, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response storeFailed(StoreException e) {
        LOG.errorf("model store error: %s", e.getMessage());
        return problem(Problem.of("store-error", "Model store error", 500, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e) {
        LOG.error("unexpected error while answering a request", e);
        return problem(Problem.of("internal-error", "Internal error", 500,
                "expected to answer the request, found an internal error: " + e.getClass().getSimpleName()));
    }

    static Response problem(Problem problem) {
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).entity(problem).build();
    }

    /** A problem with the header that tells the client what to do next (Retry-After, WWW-Authenticate). */
    static Response problem(Problem problem, String header, String value) {
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).header(header, value).entity(problem).build();
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
