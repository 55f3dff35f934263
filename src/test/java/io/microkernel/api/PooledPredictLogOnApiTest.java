package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.hasSize;

import io.grpc.ManagedChannel;
import io.microkernel.api.grpc.GrpcChannels;
import io.microkernel.api.grpc.proto.InferTensorContents;
import io.microkernel.api.grpc.proto.ModelInferRequest;
import io.microkernel.api.grpc.proto.ModelInferResponse;
import io.microkernel.tensor.BufferPool;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/**
 * With the prediction log on, gRPC {@code ModelInfer} and TF Serving's {@code :predict} still read
 * their inputs into the pool, but give nothing back: the log's writer keeps the inputs after the
 * answer. On the tiny classifier ({@code input [-1,4]}, {@code probabilities [-1,3]}) a request takes
 * two buffers of the smallest class, so the idle bytes fall by exactly the buffers reused.
 */
@QuarkusTest
@TestProfile(FeedbackApiTest.LogOn.class)
class PooledPredictLogOnApiTest {

    private static final int IN_A_ROW = 10;
    /** The input and the output. */
    private static final int BUFFERS_PER_REQUEST = 2;
    /** The smallest size class of the pool, which holds every tensor here. */
    private static final int SMALLEST_BUFFER = 64;

    @Inject
    BufferPool buffers;

    @Test
    void requestsKeepTheirBuffersForTheLog() throws Exception {
        ManagedChannel channel = GrpcChannels.open();
        try {
            var stub = GrpcChannels.stub(channel);
            long idle = buffers.idleBytes();
            long allocated = buffers.allocated();
            long reused = buffers.reused();

            for (int i = 0; i < IN_A_ROW; i++) {
                ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("default").setId("log-on-" + i);
                request.addInputsBuilder().setName("input").setDatatype("FP32").addShape(1).addShape(4)
                        .setContents(InferTensorContents.newBuilder().addFp32Contents(i).addFp32Contents(1)
                                .addFp32Contents(2).addFp32Contents(3));
                ModelInferResponse answer = stub.modelInfer(request.build());
                assertThat(answer.getOutputs(0).getContents().getFp32ContentsList()).hasSize(3);

                given().contentType(ContentType.JSON).body("{\"instances\":[[" + i + ",1,2,3]]}")
                        .post("/v1/models/default:predict").then().statusCode(200).body("predictions[0]", hasSize(3));
            }

            long taken = (buffers.allocated() - allocated) + (buffers.reused() - reused);
            assertThat(taken).as("every input and output borrowed a buffer").isEqualTo(2L * BUFFERS_PER_REQUEST * IN_A_ROW);
            assertThat(buffers.idleBytes()).as("nothing given back while the log keeps the tensors")
                    .isEqualTo(idle - (buffers.reused() - reused) * SMALLEST_BUFFER);
        } finally {
            GrpcChannels.close(channel);
        }
    }
}
