package io.microkernel.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Refuses a body whose declared length is over {@code quarkus.http.limits.max-body-size} with a
 * 413 problem before a byte of it is read. (Bodies without a declared length are still cut off at
 * the limit by the HTTP layer itself.)
 */
@ApplicationScoped
public class BodyLimit {

    @Inject
    ObjectMapper json;

    @ConfigProperty(name = "quarkus.http.limits.max-body-size", defaultValue = "10240K")
    MemorySize maxBodySize;

    void install(@Observes Router router) {
        long limit = maxBodySize.asLongValue();
        router.route().order(Integer.MIN_VALUE).handler(context -> {
            String declared = context.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            long length;
            try {
                length = declared == null ? -1 : Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                length = -1;
            }
            if (length <= limit) {
                context.next();
                return;
            }
            Problem problem = Problem.of("payload-too-large", "Payload too large", 413,
                    "expected a body of at most " + limit + " bytes (quarkus.http.limits.max-body-size), found " + length);
            // Clients may escape the ':' of ':predict'; the route choice reads the path as the resources do.
            String path = context.request().path().replace("%3A", ":").replace("%3a", ":");
            String body;
            try {
                body = json.writeValueAsString(ProblemMapper.body(problem, path));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                body = "";
            }
            // Close the connection: the client may still be sending a body nobody will read.
            context.response().setStatusCode(413)
                    .putHeader(HttpHeaders.CONTENT_TYPE, ProblemMapper.mediaType(path))
                    .putHeader(HttpHeaders.CONNECTION, "close")
                    .end(body);
        });
    }
}
