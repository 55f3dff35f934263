package io.microkernel.artifacts;

/**
 * Names that ONNX Runtime's training graphs use for the gradient plumbing, the same in sets made by
 * Python's {@code generate_artifacts} and by the project's own compiler.
 */
public final class TrainingGraphNames {

    /** The bool {@code [1]} input that tells every gradient accumulator to start over. */
    public static final String LAZY_RESET_GRAD = "lazy_reset_grad";
    /** Suffix of the input holding a trainable parameter's accumulated gradient. */
    public static final String GRAD_BUFFER_SUFFIX = "_grad.accumulation.buffer";
    /** Suffix of the output flag of a trainable parameter's gradient accumulator. */
    public static final String GRAD_OUT_SUFFIX = "_grad.accumulation.out";

    private TrainingGraphNames() {
    }
}
