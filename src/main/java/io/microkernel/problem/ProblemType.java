package io.microkernel.problem;

/**
 * Every kind of failure the service reports. The slug is stable: clients see it as the problem
 * type {@code urn:microkernel:problem:<slug>}. The status is what an HTTP answer carries; 4xx for
 * what the client can fix, 5xx for failures of the server itself.
 */
public enum ProblemType {
    // The request names something that does not exist.
    UNKNOWN_MODEL("unknown-model", "Unknown model", 404),
    UNKNOWN_VERSION("unknown-version", "Unknown version", 404),
    UNKNOWN_ROUND("unknown-round", "Unknown round", 404),
    // The request lacks credentials.
    UNAUTHORIZED("unauthorized", "Unauthorized", 401),
    // The request's inputs do not fit the model (serving.InputProblem maps onto these).
    UNKNOWN_INPUT("unknown-input", "Unknown input", 400),
    MISSING_INPUT("missing-input", "Missing input", 400),
    DUPLICATE_INPUT("duplicate-input", "Duplicate input", 400),
    WRONG_SHAPE("wrong-shape", "Wrong shape", 400),
    WRONG_DATATYPE("wrong-datatype", "Wrong datatype", 400),
    DATA_LENGTH_MISMATCH("data-length-mismatch", "Data length does not match the shape", 400),
    NOT_FINITE("not-finite", "Value is not finite", 400),
    NOT_NUMERIC("not-numeric", "Value is not numeric", 400),
    EMPTY_BATCH("empty-batch", "Empty batch", 400),
    BATCH_TOO_LARGE("batch-too-large", "Batch too large", 400),
    MALFORMED_REQUEST("malformed-request", "Malformed request", 400),
    REJECTED_BY_MODEL("rejected-by-model", "Input rejected by the model", 400),
    // The request's learning content is wrong.
    INVALID_SAMPLE("invalid-sample", "Invalid sample", 400),
    INVALID_ROUND_REQUEST("invalid-round-request", "Invalid round request", 400),
    IDEMPOTENCY_KEY_REUSED("idempotency-key-reused", "Idempotency key reused with other samples", 422),
    // The request conflicts with the state of the server.
    ROUND_CONFLICT("round-conflict", "Round conflict", 409),
    FEEDBACK_DISABLED("feedback-disabled", "Prediction log disabled", 409),
    ROUND_CANCELLED("round-cancelled", "Round cancelled", 409),
    VERSION_DOES_NOT_LOAD("version-does-not-load", "Version does not load", 409),
    SAMPLE_BUFFER_FULL("sample-buffer-full", "Sample buffer full", 429),
    MODEL_NOT_READY("model-not-ready", "Model not ready", 503),
    /** Fleet mode: NATS cannot be reached; nothing was stored; retry after Retry-After. */
    FLEET_UNAVAILABLE("fleet-unavailable", "Fleet unavailable", 503),
    /** The data disk is full: nothing was stored; retry once space is freed. */
    INSUFFICIENT_STORAGE("insufficient-storage", "Insufficient storage", 507),
    // The server failed.
    INFERENCE_FAILED("inference-failed", "Inference failed", 500),
    STORE_ERROR("store-error", "Model store error", 500),
    ROUND_FAILED("round-failed", "Round failed", 500),
    ARTIFACT_ERROR("artifact-error", "Artifact set error", 500),
    RUNTIME_SETUP("runtime-setup", "Runtime setup failed", 500),
    /** A {@code microkernel.*} setting out of range: reported at start-up, which then stops. */
    CONFIGURATION("configuration", "Configuration error", 500);

    /** The prefix of every problem type URI. */
    public static final String URN_PREFIX = "urn:microkernel:problem:";

    private final String slug;
    private final String title;
    private final int status;

    ProblemType(String slug, String title, int status) {
        this.slug = slug;
        this.title = title;
        this.status = status;
    }

    public String slug() {
        return slug;
    }

    public String title() {
        return title;
    }

    /** The HTTP status an answer to this problem carries. */
    public int status() {
        return status;
    }

    /** {@code urn:microkernel:problem:<slug>}. */
    public String uri() {
        return URN_PREFIX + slug;
    }

    /** True for failures of the server itself (5xx), which are worth a log line. */
    public boolean isServerFailure() {
        return status >= 500;
    }
}
