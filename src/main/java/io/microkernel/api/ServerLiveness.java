package io.microkernel.api;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * KServe v1's server liveness: {@code GET /} answers {@code {"status": "alive"}} while the process
 * runs, as KServe's model server does; KServe's REST client ({@code is_server_live} with protocol
 * v1) reads it. A route on the router, not a resource at {@code /}, so no other path is matched.
 */
@ApplicationScoped
public class ServerLiveness {

    void route(@Observes Router router) {
        router.get("/").handler(context -> context.response().putHeader("Content-Type", "application/json")
                .end("{\"status\":\"alive\"}"));
    }
}
