package io.microkernel.api;

import io.microkernel.serving.ServedModel;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

/**
 * Counts each HTTP inference request (OIP v2 {@code .../infer}, TF-Serving v1 {@code :predict} and
 * {@code :classify}) as serving work in flight ({@link ServedModel#requestsInFlight()}) from the moment
 * it arrives, before its body is read, until its answer ends or its connection closes. Training rounds
 * read that count to give way to serving; counting the whole request, not only its run, covers the
 * parsing and writing that are most of a small model's request.
 *
 * <p>Thread-safe: the count is one atomic in {@link ServedModel}.
 */
@ApplicationScoped
public class InferenceInFlight {

    @Inject
    Instance<ServedModel> served;

    void install(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(context -> {
            ServedModel model = isInference(context) && served.isResolvable() ? served.get() : null;
            if (model != null) {
                model.requestArrived();
                context.addEndHandler(ended -> model.requestEnded());
            }
            context.next();
        });
    }

    /** A POST to an inference path; the path is read as the resources read it ({@code %3A} is a colon). */
    static boolean isInference(RoutingContext context) {
        if (context.request().method() != HttpMethod.POST) {
            return false;
        }
        return isInferencePath(context.request().path());
    }

    static boolean isInferencePath(String rawPath) {
        String path = rawPath.replace("%3A", ":").replace("%3a", ":");
        return path.startsWith("/v2/models/") && path.endsWith("/infer")
                || path.startsWith("/v1/models/") && (path.endsWith(":predict") || path.endsWith(":classify"));
    }
}
