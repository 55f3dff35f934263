package io.microkernel.api;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import java.lang.reflect.Method;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/** Applies {@link AccessGuard} to endpoints marked {@link Mutating} or {@link InferenceEndpoint}. */
public class AccessFilter {

    @Inject
    AccessGuard guard;

    @ServerRequestFilter(priority = Priorities.AUTHENTICATION)
    public void guard(ContainerRequestContext context, ResourceInfo resource, HttpServerRequest request) {
        Method method = resource.getResourceMethod();
        if (method == null) {
            return;
        }
        // POST .../versions/{v}:predict and :classify share the :activate method, but are inference.
        String path = context.getUriInfo().getPath();
        boolean inferenceVerb = path.endsWith(":predict") || path.endsWith(":classify");
        boolean mutating = marked(resource, Mutating.class) && !inferenceVerb;
        boolean inference = marked(resource, InferenceEndpoint.class) || inferenceVerb;
        if (mutating || (inference && guard.protectsInference())) {
            SocketAddress peer = request.remoteAddress();
            guard.check(peer == null ? null : peer.hostAddress(), context.getHeaderString(HttpHeaders.AUTHORIZATION));
        }
    }

    private static boolean marked(ResourceInfo resource, Class<? extends java.lang.annotation.Annotation> annotation) {
        return resource.getResourceMethod().isAnnotationPresent(annotation)
                || resource.getResourceClass().isAnnotationPresent(annotation);
    }
}
