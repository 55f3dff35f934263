package io.microkernel.api.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.util.Locale;
import org.jboss.logging.Logger;

/**
 * The one place where failures become gRPC statuses. A {@link ProblemException} keeps its message
 * (the same "expected X, found Y" a REST client reads); its HTTP status picks the code: 400
 * {@code INVALID_ARGUMENT}, 401 {@code UNAUTHENTICATED}, 404 {@code NOT_FOUND}, 409
 * {@code FAILED_PRECONDITION}, 413, 429 and 507 {@code RESOURCE_EXHAUSTED}, 503
 * {@code UNAVAILABLE}, other 5xx {@code INTERNAL}. Anything else is {@code INTERNAL} and logged.
 */
public final class GrpcStatus {

    private static final Logger LOG = Logger.getLogger(GrpcStatus.class);

    private GrpcStatus() {
    }

    /** The status a call that failed with {@code failure} ends with. */
    public static StatusRuntimeException of(Throwable failure) {
        if (failure instanceof StatusRuntimeException status) {
            return status;
        }
        if (failure instanceof ProblemException problem) {
            ProblemType type = problem.type();
            if (type.status() == 500) {
                LOG.errorf("%s: %s", type.title().toLowerCase(Locale.ROOT), problem.getMessage());
                LOG.debug("cause", problem);
            }
            return code(type.status()).withDescription(problem.getMessage()).asRuntimeException();
        }
        LOG.error("unexpected error while answering a gRPC call", failure);
        return Status.INTERNAL.withDescription("expected to answer the request, found an internal error: "
                + failure.getClass().getSimpleName()).asRuntimeException();
    }

    /** The gRPC code for an HTTP status. */
    static Status code(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> Status.INVALID_ARGUMENT;
            case 401 -> Status.UNAUTHENTICATED;
            case 403 -> Status.PERMISSION_DENIED;
            case 404 -> Status.NOT_FOUND;
            case 409 -> Status.FAILED_PRECONDITION;
            case 413, 429, 507 -> Status.RESOURCE_EXHAUSTED;
            case 503 -> Status.UNAVAILABLE;
            default -> httpStatus >= 400 && httpStatus < 500 ? Status.INVALID_ARGUMENT : Status.INTERNAL;
        };
    }
}
