package io.microkernel.api;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Applies {@link AccessGuard} to endpoints marked {@link Mutating} or {@link InferenceEndpoint}.
 *
 * <p>What each resource method is marked with is looked up once per method and kept, so a request
 * costs one map lookup, not reflection; the path is read only where it can change the answer.
 * Thread-safe.
 */
public class AccessFilter {

    /** What a resource method is marked with. */
    private record Marks(boolean mutating, boolean inference) {
    }

    private static final Map<Method, Marks> MARKS = new ConcurrentHashMap<>();

    @Inject
    AccessGuard guard;

    @ServerRequestFilter(priority = Priorities.AUTHENTICATION)
    public void guard(ContainerRequestContext context, ResourceInfo resource, HttpServerRequest request) {
        Method method = resource.getResourceMethod();
        if (method == null) {
            return;
        }
        Marks marks = MARKS.computeIfAbsent(method, m -> new Marks(marked(resource, Mutating.class),
                marked(resource, InferenceEndpoint.class)));
        boolean mutating = marks.mutating();
        boolean inference = marks.inference();
        if (mutating || (!inference && guard.protectsInference())) {
            // POST .../versions/{v}:predict and :classify share the :activate method, but are inference.
            boolean verb = isInferenceVerb(context.getUriInfo().getPath());
            mutating = mutating && !verb;
            inference = inference || verb;
        }
        if (mutating || (inference && guard.protectsInference())) {
            SocketAddress peer = request.remoteAddress();
            guard.check(peer == null ? null : peer.hostAddress(), context.getHeaderString(HttpHeaders.AUTHORIZATION));
        }
    }

    static boolean isInferenceVerb(String path) {
        return path.endsWith(":predict") || path.endsWith(":classify");
    }

    private static boolean marked(ResourceInfo resource, Class<? extends java.lang.annotation.Annotation> annotation) {
        return resource.getResourceMethod().isAnnotationPresent(annotation)
                || resource.getResourceClass().isAnnotationPresent(annotation);
    }
}
