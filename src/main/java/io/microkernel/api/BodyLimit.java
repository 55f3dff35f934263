package io.microkernel.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Refuses a body whose declared length is over {@code quarkus.http.limits.max-body-size} with a
 * 413 problem before a byte of it is read, and closes the connection. (Bodies without a declared
 * length are cut off at the limit while {@link RequestBodies} receives them.)
 */
@ApplicationScoped
public class BodyLimit {

    /** How long a refused body is still read (and dropped) before its connection is closed. */
    static final long LINGER_MILLIS = 5_000;

    @Inject
    ObjectMapper json;

    @Inject
    Vertx vertx;

    @ConfigProperty(name = "quarkus.http.limits.max-body-size", defaultValue = "10240K")
    MemorySize maxBodySize;

    void install(@Observes Router router) {
        long limit = maxBodySize.asLongValue();
        router.route().order(Integer.MIN_VALUE).handler(context -> {
            long length = declaredLength(context);
            if (length <= limit) {
                context.next();
                return;
            }
            answer(context, Problem.of("payload-too-large", "Payload too large", 413, "expected a body of at most "
                    + limit + " bytes (quarkus.http.limits.max-body-size), found " + length), null, null);
        });
    }

    /** The request's {@code Content-Length}, or -1 when it has none (chunked) or an unreadable one. */
    static long declaredLength(RoutingContext context) {
        String declared = context.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        try {
            return declared == null ? -1 : Long.parseLong(declared.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Answers {@code problem} before the body is read and closes the connection, as the answer says:
     * the client may still be sending a body nobody will read. The rest of that body is read and
     * dropped for at most {@link #LINGER_MILLIS} first, because closing on a client still sending
     * makes its kernel discard the answer it has not read yet.
     */
    void answer(RoutingContext context, Problem problem, String header, String value) {
        answer(context, problem, header, value, true);
    }

    void answer(RoutingContext context, Problem problem, String header, String value, boolean linger) {
        // Clients may escape the ':' of ':predict'; the route choice reads the path as the resources do.
        String path = context.request().path().replace("%3A", ":").replace("%3a", ":");
        String body;
        try {
            body = json.writeValueAsString(ProblemMapper.body(problem, path));
        } catch (JsonProcessingException e) {
            body = "";
        }
        HttpServerResponse response = context.response();
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(problem.status())
                .putHeader(HttpHeaders.CONTENT_TYPE, ProblemMapper.mediaType(path))
                .putHeader(HttpHeaders.CONNECTION, "close");
        if (header != null) {
            response.putHeader(header, value);
        }
        HttpServerRequest request = context.request();
        response.end(body).onComplete(sent -> {
            if (!linger || request.isEnded()) {
                request.connection().close();
                return;
            }
            long timer = vertx.setTimer(LINGER_MILLIS, id -> request.connection().close());
            request.handler(dropped -> { }).endHandler(ended -> {
                vertx.cancelTimer(timer);
                request.connection().close();
            });
            request.resume();
        });
    }
}
