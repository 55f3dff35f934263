package io.microkernel.runtime;

/** The ONNX Runtime could not be set up; carries the cause and the remedy in one line. */
public class RuntimeSetupException extends RuntimeException {

    private final String remedy;

    public RuntimeSetupException(String cause, String remedy) {
        super(cause + "; remedy: " + remedy);
        this.remedy = remedy;
    }

    public String remedy() {
        return remedy;
    }
}
