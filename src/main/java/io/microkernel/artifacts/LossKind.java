package io.microkernel.artifacts;

/** The training loss of an artifact set, read from its graphs. */
public enum LossKind {
    /** Softmax cross-entropy on int64 class indices. */
    CROSS_ENTROPY,
    /** Mean squared error on float targets. */
    MSE
}
