package io.microkernel.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every problem type maps onto the gRPC code its HTTP status means, with REST's message. */
class GrpcStatusTest {

    private static final Map<Integer, Status.Code> CODES = Map.of(
            400, Status.Code.INVALID_ARGUMENT,
            401, Status.Code.UNAUTHENTICATED,
            403, Status.Code.PERMISSION_DENIED,
            404, Status.Code.NOT_FOUND,
            409, Status.Code.FAILED_PRECONDITION,
            413, Status.Code.RESOURCE_EXHAUSTED,
            429, Status.Code.RESOURCE_EXHAUSTED,
            503, Status.Code.UNAVAILABLE,
            507, Status.Code.RESOURCE_EXHAUSTED,
            500, Status.Code.INTERNAL);

    /** Other 4xx a later problem type may carry are the client's: INVALID_ARGUMENT; other 5xx INTERNAL. */
    private static Status.Code expected(int httpStatus) {
        return CODES.getOrDefault(httpStatus, httpStatus < 500 ? Status.Code.INVALID_ARGUMENT : Status.Code.INTERNAL);
    }

    @Test
    void everyProblemTypeKeepsItsMessageUnderTheCodeOfItsStatus() {
        for (ProblemType type : ProblemType.values()) {
            StatusRuntimeException status = GrpcStatus.of(new ProblemException(type, "expected X, found Y"));
            assertThat(status.getStatus().getCode()).as(type.name()).isEqualTo(expected(type.status()));
            assertThat(status.getStatus().getDescription()).isEqualTo("expected X, found Y");
        }
    }

    @Test
    void anythingElseIsInternalWithoutItsMessage() {
        StatusRuntimeException status = GrpcStatus.of(new IllegalStateException("secret internals"));
        assertThat(status.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(status.getStatus().getDescription())
                .isEqualTo("expected to answer the request, found an internal error: IllegalStateException");
    }
}
