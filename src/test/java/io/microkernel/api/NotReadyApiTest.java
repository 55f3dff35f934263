package io.microkernel.api;

import static io.microkernel.api.InferenceApiTest.TWO_ROWS;
import static io.microkernel.api.InferenceApiTest.expectError;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.expectStatus;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.fp32;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.input;
import static io.microkernel.api.grpc.GrpcInferenceServiceTest.request;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;


import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.microkernel.api.grpc.GrpcChannels;
import io.microkernel.api.grpc.proto.GRPCInferenceServiceGrpc;
import io.microkernel.api.grpc.proto.ModelMetadataRequest;
import io.microkernel.api.grpc.proto.ModelReadyRequest;
import io.microkernel.api.grpc.proto.ServerLiveRequest;
import io.microkernel.api.grpc.proto.ServerReadyRequest;
import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.testing.TinyModels;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.ConfigProvider;
import org.hamcrest.Matchers;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

@QuarkusTest
@TestProfile(NotReadyProfile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NotReadyApiTest {

    @Test
    @Order(1)
    void requestsBeforeAnyModelIsLoadedGet503AndReadinessIsDown() {
        expectError(given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer"),
                503, "expected a loaded version, found none");
        given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer").then().header("Retry-After", equalTo("5"));
        expectError(given().contentType(ContentType.JSON).body("{\"instances\":[[1,2,3,4]]}").when().post("/v1/models/default:predict"),
                503, "not ready");
        expectError(given().when().get("/v2/models/default"), 503, "not ready");
        given().when().get("/v2/models/default/ready").then().statusCode(503).body("ready", equalTo(false));
        given().when().get("/v2/health/ready").then().statusCode(503);
        given().when().get("/q/health/ready").then().statusCode(503).body("status", equalTo("DOWN"));
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/v2/health/live").then().statusCode(200);
    }

    /** The same over gRPC, in this boot, before the artifacts arrive: UNAVAILABLE, as REST's 503. */
    @Test
    @Order(1)
    void grpcBeforeAnyModelIsLoadedIsUnavailableAndNotReady() throws InterruptedException {
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

    /**
     * Issue 10, defect 3: a start-up that cannot create version 1 keeps trying with backoff, and says
     * why in readiness and in the model's metadata; once the artifact set shows up the model serves
     * without a restart. Runs after the test above (it makes the model ready).
     */
    @Test
    @Order(2)
    void startUpSaysWhyItIsNotReadyAndServesOnceTheArtifactsArrive() throws Exception {
        Path artifacts = Path.of(ConfigProvider.getConfig()
                .getValue("microkernel.model.artifacts", String.class));
        String why = "microkernel.model.artifacts=" + artifacts.toAbsolutePath() + " is not a folder";
        given().when().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'model default' }.data.reason", Matchers.containsString(why))
                .body("checks.find { it.name == 'model default' }.data.reason", Matchers.containsString("next in"));
        given().when().get("/v2/health/ready").then().statusCode(503).body("reason", Matchers.containsString(why));
        expectError(given().when().get("/v2/models/default"), 503, why);

        // The set appears whole (built aside, then renamed), as a mounted volume would.
        Path aside = artifacts.resolveSibling("artifacts-being-built");
        ArtifactBuilder.fromModel(TinyModels.classifier(1))
                .trainablePattern(Pattern.compile("head\\..*"))
                .classNames(List.of("a", "b", "c"))
                .build(OrtRuntime.bundled().environment(), aside);
        Files.move(aside, artifacts, StandardCopyOption.ATOMIC_MOVE);

        Awaitility.await().atMost(Duration.ofMinutes(2))
                .until(() -> given().get("/v2/health/ready").statusCode() == 200);
        given().when().get("/q/health/ready").then().statusCode(200).body("checks.find { it.name == 'model default' }.data.reason", Matchers.nullValue());
        given().when().get("/v2/models/default").then().statusCode(200).body("versions", Matchers.contains("1"));
        given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer").then().statusCode(200);
    }
}
