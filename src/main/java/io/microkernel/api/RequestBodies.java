package io.microkernel.api;

import io.microkernel.config.MicrokernelConfig;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Receives every request body on the event loop, whole, before a worker thread sees the request,
 * so a client that sends slowly (or never sends what its {@code Content-Length} promised) holds no
 * worker: it holds a socket until {@code microkernel.serving.body-timeout}, and is then answered 408
 * and disconnected. The REST layer then reads the body from memory.
 *
 * <p>Bodies take memory from the moment they are received until their answer is sent, so their
 * declared lengths (or, without one, the body size limit) are counted against
 * {@code microkernel.serving.max-bytes-in-flight} over all requests; a body that does not fit is
 * refused at once with 429 and {@code Retry-After}, before a byte of it is read.
 *
 * <p>Thread-safe: the count is one atomic, returned when the request's answer ends or its connection closes.
 */
@ApplicationScoped
public class RequestBodies {

    private static final Logger LOG = Logger.getLogger(RequestBodies.class);
    /** Runs right after {@link BodyLimit}, which refuses oversized declared lengths without counting them. */
    static final int ORDER = Integer.MIN_VALUE + 1;
    private static final long RETRY_AFTER_SECONDS = 1;
    /** What an answer to a client that has gone is recorded as (nginx's "client closed request"), not a 500. */
    static final int CLIENT_CLOSED = 499;

    @Inject
    MicrokernelConfig config;

    @Inject
    Vertx vertx;

    @Inject
    BodyLimit limits;

    @ConfigProperty(name = "quarkus.http.limits.max-body-size", defaultValue = "10240K")
    MemorySize maxBodySize;

    private final AtomicLong inFlight = new AtomicLong();

    void install(@Observes Router router) {
        long budget = config.serving().maxBytesInFlight().asLongValue();
        long timeoutMillis = Math.max(1, config.serving().bodyTimeout().toMillis());
        long limit = maxBodySize.asLongValue();
        BodyHandler bodies = BodyHandler.create(false).setBodyLimit(limit).setPreallocateBodyBuffer(true);
        router.route().order(ORDER).handler(context -> {
            if (!hasBody(context)) {
                context.next();
                return;
            }
            long declared = BodyLimit.declaredLength(context);
            long reserved = declared >= 0 ? declared : limit;
            if (!reserve(reserved, budget)) {
                refuse(context, reserved, budget);
                return;
            }
            long timer = vertx.setTimer(timeoutMillis, id -> timeOut(context, timeoutMillis));
            // One end handler per request (the body handler sets the request's own end handler, so
            // one set here would never run): the answer is sent or the connection gone.
            context.addEndHandler(ended -> {
                inFlight.addAndGet(-reserved);
                vertx.cancelTimer(timer);
            });
            bodies.handle(context);
        }).failureHandler(context -> {
            if (isDisconnect(context.failure()) || context.response().closed()) {
                LOG.debugf("client disconnected during %s %s: %s", context.request().method(), context.request().path(),
                        context.failure());
                return;
            }
            context.next();
        });
    }

    /**
     * Whether {@code failure} (or a cause of it) is the client closing its connection: worth a
     * debug line, never an error log or a 500.
     */
    static boolean isDisconnect(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (t instanceof HttpClosedException || t instanceof ClosedChannelException
                    || message.contains("Connection reset") || message.contains("Broken pipe")
                    || message.contains("Connection was closed") || message.contains("Connection closed")) {
                return true;
            }
        }
        return false;
    }

    /** Bytes of request bodies now received or being worked on. */
    public long bytesInFlight() {
        return inFlight.get();
    }

    private static boolean hasBody(RoutingContext context) {
        HttpMethod method = context.request().method();
        if (method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS) {
            return false;
        }
        long declared = BodyLimit.declaredLength(context);
        if (declared == 0 || context.request().isEnded()) {
            return false;
        }
        // HTTP/1.x without Content-Length has a body only when it is chunked; HTTP/2 need not say.
        return declared > 0 || context.request().version() == HttpVersion.HTTP_2
                || "chunked".equalsIgnoreCase(String.valueOf(context.request().getHeader(HttpHeaders.TRANSFER_ENCODING)).trim());
    }

    private boolean reserve(long bytes, long budget) {
        while (true) {
            long now = inFlight.get();
            // One body always fits when nothing else is in flight, so no single request can be refused forever.
            if (now > 0 && now + bytes > budget) {
                return false;
            }
            if (inFlight.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    private void refuse(RoutingContext context, long bytes, long budget) {
        LOG.debugf("refused a body of %d bytes: %d of %d bytes in flight", bytes, inFlight.get(), budget);
        limits.answer(context, Problem.of("too-many-bytes-in-flight", "Too many bytes in flight", 429,
                "expected request bodies of at most " + budget + " bytes in flight (microkernel.serving.max-bytes-in-flight),"
                        + " found " + inFlight.get() + " plus this one's " + bytes + "; retry after " + RETRY_AFTER_SECONDS + " s"),
                "Retry-After", Long.toString(RETRY_AFTER_SECONDS));
    }

    private void timeOut(RoutingContext context, long timeoutMillis) {
        if (context.request().isEnded() || context.response().ended() || context.response().closed()) {
            return;
        }
        LOG.debugf("closed a connection whose body did not arrive within %d ms: %s %s", timeoutMillis,
                context.request().method(), context.request().path());
        limits.answer(context, Problem.of("request-timeout", "Request timeout", 408,
                "expected the whole body within " + timeoutMillis + " ms (microkernel.serving.body-timeout), found "
                        + context.request().bytesRead() + " bytes of it"), null, null, false);
    }
}
