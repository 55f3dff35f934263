package io.microkernel.artifacts;

import java.nio.file.Path;

/** An artifact set is missing, broken or unsupported; the message is one line naming the file and the cause. */
public class ArtifactException extends RuntimeException {

    public ArtifactException(Path file, String cause) {
        super(file + ": " + cause);
    }

    public ArtifactException(Path file, String cause, Throwable source) {
        super(file + ": " + cause, source);
    }
}
