package io.microkernel.serving;

/** What is wrong with a request's inputs; each kind has a stable slug for problem types. */
public enum InputProblem {
    UNKNOWN_INPUT("unknown-input", "Unknown input"),
    MISSING_INPUT("missing-input", "Missing input"),
    DUPLICATE_INPUT("duplicate-input", "Duplicate input"),
    WRONG_SHAPE("wrong-shape", "Wrong shape"),
    WRONG_DATATYPE("wrong-datatype", "Wrong datatype"),
    DATA_LENGTH_MISMATCH("data-length-mismatch", "Data length does not match the shape"),
    NOT_FINITE("not-finite", "Value is not finite"),
    NOT_NUMERIC("not-numeric", "Value is not numeric"),
    EMPTY_BATCH("empty-batch", "Empty batch"),
    BATCH_TOO_LARGE("batch-too-large", "Batch too large"),
    MALFORMED("malformed-request", "Malformed request"),
    REJECTED_BY_MODEL("rejected-by-model", "Input rejected by the model");

    private final String slug;
    private final String title;

    InputProblem(String slug, String title) {
        this.slug = slug;
        this.title = title;
    }

    public String slug() {
        return slug;
    }

    public String title() {
        return title;
    }
}
