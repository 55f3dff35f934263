package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.serving.InferenceFailedException;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.ModelLoadException;
import io.microkernel.serving.ModelNotReadyException;
import io.microkernel.training.InvalidSampleException;
import io.microkernel.training.RoundConflictException;
import io.microkernel.training.SampleBufferFullException;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one mapper gives every project failure the problem document the per-failure mappers used to give. */
class ProblemMapperTest {

    private final ProblemMapper mapper = new ProblemMapper();

    private void assertProblem(ProblemException e, String slug, String title, int status, Map<String, String> headers) {
        Response response = mapper.knownProblem(e, at("/v1/models/default/samples"));
        assertThat(response.getStatus()).isEqualTo(status);
        assertThat(response.getMediaType().toString()).isEqualTo("application/problem+json");
        assertThat(response.getEntity()).isEqualTo(new Problem("urn:microkernel:problem:" + slug, title, status, e.getMessage()));
        headers.forEach((name, value) -> assertThat(response.getHeaderString(name)).isEqualTo(value));
    }

    @Test
    void everyFailureKeepsItsTypeTitleStatusAndHeaders() {
        assertProblem(new InputValidationException(InputProblem.WRONG_SHAPE, "input 'x' expects shape [-1,4], got [1,5]"),
                "wrong-shape", "Wrong shape", 400, Map.of());
        assertProblem(new ProblemException(ProblemType.UNKNOWN_MODEL, "expected model 'default', found 'other'"),
                "unknown-model", "Unknown model", 404, Map.of());
        assertProblem(new ProblemException(ProblemType.UNKNOWN_VERSION, "version 9 not found"),
                "unknown-version", "Unknown version", 404, Map.of());
        assertProblem(new ModelNotReadyException("model 'default' is not ready"),
                "model-not-ready", "Model not ready", 503, Map.of("Retry-After", "5"));
        assertProblem(new ModelLoadException("cannot load version 4"),
                "version-does-not-load", "Version does not load", 409, Map.of());
        assertProblem(new ProblemException(ProblemType.UNAUTHORIZED, "expected a token", null,
                Map.of("WWW-Authenticate", "Bearer realm=\"onnx-microkernel\"")),
                "unauthorized", "Unauthorized", 401, Map.of("WWW-Authenticate", "Bearer realm=\"onnx-microkernel\""));
        assertProblem(new InferenceFailedException("version 1 failed to run", null),
                "inference-failed", "Inference failed", 500, Map.of());
        assertProblem(new ProblemException(ProblemType.STORE_ERROR, "cannot write ACTIVE"),
                "store-error", "Model store error", 500, Map.of());
        assertProblem(new InvalidSampleException("expected a label"), "invalid-sample", "Invalid sample", 400, Map.of());
        assertProblem(new ProblemException(ProblemType.INVALID_ROUND_REQUEST, "epochs must be in [1, 10000], found 0"),
                "invalid-round-request", "Invalid round request", 400, Map.of());
        assertProblem(new SampleBufferFullException("the sample buffer is full", 45),
                "sample-buffer-full", "Sample buffer full", 429, Map.of("Retry-After", "45"));
        assertProblem(new RoundConflictException("round 3 is running", 3L), "round-conflict", "Round conflict", 409, Map.of());
        assertProblem(new ProblemException(ProblemType.UNKNOWN_ROUND, "round 9 does not exist"),
                "unknown-round", "Unknown round", 404, Map.of());
    }

    /** A UriInfo that knows only its path, which is all the mapper asks of it. */
    static jakarta.ws.rs.core.UriInfo at(String path) {
        return (jakarta.ws.rs.core.UriInfo) java.lang.reflect.Proxy.newProxyInstance(ProblemMapperTest.class.getClassLoader(),
                new Class<?>[] {jakarta.ws.rs.core.UriInfo.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getPath")) {
                        return path;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    @SuppressWarnings("unchecked")
    void protocolRoutesAnswerErrorJsonAndLearningRoutesProblemJson() {
        ProblemException e = new ProblemException(ProblemType.UNKNOWN_MODEL, "expected model 'default', found 'x'");
        for (String path : java.util.List.of("/v2", "/v2/models/x/infer", "/v2/models/x/versions/1/ready", "/v2/health/live",
                "/v1/models/x", "/v1/models/x:predict", "/v1/models/x:classify", "/v1/models/x/metadata",
                "/v1/models/x/versions/2", "/v1/models/x/versions/2:predict", "/v1/models/x/versions/2:classify")) {
            Response response = mapper.knownProblem(e, at(path));
            assertThat(response.getMediaType().toString()).as(path).isEqualTo("application/json");
            assertThat(response.getStatus()).isEqualTo(404);
            assertThat((Map<String, Object>) response.getEntity()).as(path)
                    .containsEntry("error", "expected model 'default', found 'x'")
                    .containsEntry("type", "urn:microkernel:problem:unknown-model")
                    .containsEntry("status", 404);
        }
        for (String path : java.util.List.of("/v1/models/x/samples", "/v1/models/x/rounds", "/v1/models/x/rounds/3",
                "/v1/models/x/versions", "/v1/models/x/versions/2:activate", "/v1/models/x/feedback", "/console")) {
            Response response = mapper.knownProblem(e, at(path));
            assertThat(response.getMediaType().toString()).as(path).isEqualTo("application/problem+json");
            assertThat(response.getEntity()).isInstanceOf(Problem.class);
        }
    }

    @Test
    void theCauseIsKept() {
        IllegalStateException cause = new IllegalStateException("native");
        assertThat(new InferenceFailedException("failed", cause)).hasCause(cause);
        assertThat(new ProblemException(ProblemType.ROUND_FAILED, "failed", cause)).hasCause(cause);
    }
}
