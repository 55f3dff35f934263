package io.microkernel.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.stub.MetadataUtils;
import io.microkernel.api.grpc.proto.GRPCInferenceServiceGrpc;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;

/** A real channel to the test application's gRPC server, on the free port it took. */
public final class GrpcChannels {

    private GrpcChannels() {
    }

    /** The port the gRPC server listens on in this test run ({@code quarkus.grpc.server.test-port=0}: a free one). */
    static int port() {
        int port = ConfigProvider.getConfig().getValue("quarkus.grpc.server.test-port", Integer.class);
        assertThat(port).as("the gRPC server's actual test port").isPositive();
        return port;
    }

    public static ManagedChannel open() {
        return ManagedChannelBuilder.forAddress("localhost", port()).usePlaintext().build();
    }

    /**
     * A stub whose every call gets 30 s from its own start. ({@code withDeadlineAfter} on the stub would
     * fix one deadline for all its calls, and a class that runs longer than that fails every later call.)
     */
    public static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub(ManagedChannel channel) {
        return GRPCInferenceServiceGrpc.newBlockingStub(channel).withInterceptors(new ClientInterceptor() {
            @Override
            public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                return next.newCall(method, options.withDeadlineAfter(30, TimeUnit.SECONDS));
            }
        });
    }

    /** A stub that sends {@code authorization: <value>} with every call. */
    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub withAuthorization(ManagedChannel channel, String value) {
        Metadata headers = new Metadata();
        headers.put(GrpcAccessInterceptor.AUTHORIZATION, value);
        return stub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    public static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow();
        assertThat(channel.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
}
