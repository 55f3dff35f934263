package io.microkernel.api.grpc;

import static io.microkernel.api.grpc.GrpcInferenceServiceTest.expectStatus;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.fp32;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.input;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.microkernel.api.NotReadyProfile;
import io.microkernel.api.grpc.proto.GRPCInferenceServiceGrpc;
import io.microkernel.api.grpc.proto.ModelMetadataRequest;
import io.microkernel.api.grpc.proto.ModelReadyRequest;
import io.microkernel.api.grpc.proto.ServerLiveRequest;
import io.microkernel.api.grpc.proto.ServerReadyRequest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

/** No model loaded, in the profile (and the Quarkus boot) of {@code NotReadyApiTest}: UNAVAILABLE, as REST's 503. */
@QuarkusTest
@TestProfile(NotReadyProfile.class)
class GrpcNotReadyTest {

    @Test
    void beforeAnyModelIsLoadedInferenceIsUnavailableAndReadinessFalse() throws InterruptedException {
        ManagedChannel channel = GrpcChannels.open();
        try {
            GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub = GrpcChannels.stub(channel);
            assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
            assertThat(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isFalse();
            assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("default").build()).getReady()).isFalse();
            expectStatus(() -> stub.modelInfer(request().addInputs(input("input", "FP32", 1, 4).setContents(fp32(1, 2, 3, 4))).build()),
                    Status.Code.UNAVAILABLE, "expected a loaded version, found none");
            expectStatus(() -> stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("default").build()),
                    Status.Code.UNAVAILABLE, "not ready");
        } finally {
            GrpcChannels.close(channel);
        }
    }
}
