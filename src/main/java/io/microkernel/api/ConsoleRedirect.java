package io.microkernel.api;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * {@code GET /console} answers with a redirect to {@code /console/}, where the console's page is
 * served from the jar ({@code META-INF/resources/console/}); its assets are addressed relative to it.
 */
@ApplicationScoped
public class ConsoleRedirect {

    void route(@Observes Router router) {
        // Relative, so a reverse proxy's path prefix is kept.
        router.routeWithRegex("^/console$").handler(context -> context.response().setStatusCode(301)
                .putHeader("Location", "console/").end());
    }
}
