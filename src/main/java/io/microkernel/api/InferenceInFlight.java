package io.microkernel.api;

import io.microkernel.serving.ServedModel;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Counts each HTTP inference request (OIP v2 {@code .../infer}, TF-Serving v1 {@code :predict} and
 * {@code :classify}) as serving work in flight ({@link ServedModel#requestsInFlight()}) from the moment
 * it arrives, before its body is read, until its answer ends or its connection closes. Training rounds
 * read that count to give way to serving; counting the whole request, not only its run, covers the
 * parsing and writing that are most of a small model's request.
 *
 * <p>When the application stops ({@link ShutdownEvent}: after Quarkus has drained the HTTP requests
 * it counted, before the beans, the served model among them, close), a later request is turned away
 * by closing its connection before any answer, as a server that is gone would, and the stop waits
 * (at most {@link #STOP_WAIT}) for the inference work still in flight. Without that, a request that
 * arrived between the drain and the server's close was run against a closed model and answered 503.
 *
 * <p>Thread-safe: the count is one atomic in {@link ServedModel}; a request counts itself before it
 * reads {@code stopping}, and the stop sets {@code stopping} before it reads the count, so one of the
 * two always sees the other.
 */
@ApplicationScoped
public class InferenceInFlight {

    /** The longest the stop waits for inference work in flight. */
    static final Duration STOP_WAIT = Duration.ofSeconds(10);

    @Inject
    Instance<ServedModel> served;

    private volatile boolean stopping;
    /** The served model once an inference request has counted itself on it; the stop never creates it. */
    private volatile ServedModel counted;

    void install(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(context -> {
            ServedModel model = isInference(context) && served.isResolvable() ? served.get() : null;
            if (model != null) {
                model.requestArrived();
                counted = model;
            }
            if (stopping) {
                if (model != null) {
                    model.requestEnded();
                }
                context.request().connection().close();
                return;
            }
            if (model != null) {
                context.addEndHandler(ended -> model.requestEnded());
            }
            context.next();
        });
    }

    void onStop(@Observes ShutdownEvent event) {
        stopping = true;
        ServedModel model = counted;
        if (model == null) {
            return;
        }
        long deadline = System.nanoTime() + STOP_WAIT.toNanos();
        while (model.requestsInFlight() > 0 && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(1_000_000);
        }
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
