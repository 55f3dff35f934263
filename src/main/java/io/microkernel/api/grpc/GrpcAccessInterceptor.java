package io.microkernel.api.grpc;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.microkernel.api.AccessGuard;
import io.microkernel.api.grpc.proto.GRPCInferenceServiceGrpc;
import io.microkernel.problem.ProblemException;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * REST's token rule ({@link AccessGuard}) on gRPC: with {@code microkernel.api.protect-inference},
 * {@code ModelInfer} needs {@code authorization: Bearer <token>} in the call's metadata unless the
 * peer is a trusted loopback client; metadata and health calls stay open, as on REST. A refused
 * call ends {@code UNAUTHENTICATED} with REST's message, before the request is read.
 *
 * <p>Thread-safe and stateless.
 */
@ApplicationScoped
@GlobalInterceptor
public class GrpcAccessInterceptor implements ServerInterceptor {

    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private static final String GUARDED_METHOD = GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName();

    @Inject
    AccessGuard guard;

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        if (guard.protectsInference() && GUARDED_METHOD.equals(call.getMethodDescriptor().getFullMethodName())) {
            try {
                guard.check(peerAddress(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)), headers.get(AUTHORIZATION));
            } catch (ProblemException e) {
                StatusRuntimeException refused = GrpcStatus.of(e);
                call.close(refused.getStatus(), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
        }
        return next.startCall(call, headers);
    }

    /** The peer's IP address as text, or {@code null} when the transport does not say. */
    static String peerAddress(SocketAddress address) {
        if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress().getHostAddress();
        }
        return null;
    }
}
