package io.microkernel.api.grpc;

import static io.microkernel.api.grpc.GrpcInferenceServiceTest.expectStatus;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.fp32;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.input;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.microkernel.api.TrainingProfiles;
import io.microkernel.api.grpc.proto.GRPCInferenceServiceGrpc;
import io.microkernel.api.grpc.proto.ModelInferRequest;
import io.microkernel.api.grpc.proto.ModelMetadataRequest;
import io.microkernel.api.grpc.proto.ServerReadyRequest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * REST's token rule on gRPC, in the profile (and the Quarkus boot) of {@code TokenRuleApiTest}:
 * loopback not trusted, inference protected, token {@value TrainingProfiles.Guarded#TOKEN}.
 */
@QuarkusTest
@TestProfile(TrainingProfiles.Guarded.class)
class GrpcTokenRuleTest {

    private static final ModelInferRequest TWO_ROWS = request()
            .addInputs(input("input", "FP32", 2, 4).setContents(fp32(1, 2, 3, 4, 5, 6, 7, 8))).build();

    private static ManagedChannel channel;

    @BeforeAll
    static void connect() {
        channel = GrpcChannels.open();
    }

    @AfterAll
    static void disconnect() throws InterruptedException {
        GrpcChannels.close(channel);
    }

    @Test
    void protectedInferenceNeedsTheTokenInTheMetadata() {
        GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub anonymous = GrpcChannels.stub(channel);
        expectStatus(() -> anonymous.modelInfer(TWO_ROWS), Status.Code.UNAUTHENTICATED,
                "expected 'Authorization: Bearer <token>' from non-loopback client");
        expectStatus(() -> GrpcChannels.withAuthorization(channel, "Bearer nope").modelInfer(TWO_ROWS),
                Status.Code.UNAUTHENTICATED, "expected the configured API token, found a different one");
        expectStatus(() -> GrpcChannels.withAuthorization(channel, "Basic abc").modelInfer(TWO_ROWS),
                Status.Code.UNAUTHENTICATED, "found another scheme");

        assertThat(GrpcChannels.withAuthorization(channel, "Bearer " + TrainingProfiles.Guarded.TOKEN).modelInfer(TWO_ROWS)
                .getModelVersion()).isEqualTo("1");
    }

    @Test
    void metadataAndHealthStayOpen() {
        GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub anonymous = GrpcChannels.stub(channel);
        assertThat(anonymous.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
        assertThat(anonymous.modelMetadata(ModelMetadataRequest.newBuilder().setName("default").build()).getName())
                .isEqualTo("default");
    }
}
