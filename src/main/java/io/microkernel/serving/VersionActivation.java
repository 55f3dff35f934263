package io.microkernel.serving;

import io.microkernel.store.ModelVersion;

/**
 * An operator's roll back or forward: {@link ServedModel#swap} in single-node mode; in fleet mode
 * the fleet's active version moves and every replica follows. Implementations are thread-safe.
 */
@FunctionalInterface
public interface VersionActivation {

    /**
     * Makes {@code version} the one that answers.
     *
     * @return the version now served
     * @throws io.microkernel.problem.ProblemException (unknown-version) when no copy of it exists
     * @throws ModelLoadException when it does not load; the served version does not change
     */
    ModelVersion activate(int version);
}
