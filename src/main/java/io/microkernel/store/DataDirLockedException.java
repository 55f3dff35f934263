package io.microkernel.store;

/** The data dir is locked by another process, or cannot be locked; the message is one line with a remedy. */
public final class DataDirLockedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DataDirLockedException(String message) {
        super(message);
    }
}
