package io.microkernel.artifacts;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.nio.file.Path;

/**
 * An artifact set is missing, broken or unsupported; the message is one line naming the file and
 * the cause. Caught by type by the tools and rounds that report it in their own words.
 */
public class ArtifactException extends ProblemException {

    public ArtifactException(Path file, String cause) {
        super(ProblemType.ARTIFACT_ERROR, file + ": " + cause);
    }

    public ArtifactException(Path file, String cause, Throwable source) {
        super(ProblemType.ARTIFACT_ERROR, file + ": " + cause, source);
    }
}
