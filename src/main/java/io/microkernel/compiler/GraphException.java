package io.microkernel.compiler;

/** A model cannot be turned into training graphs; the message is one line naming the node or tensor. */
public class GraphException extends RuntimeException {

    public GraphException(String message) {
        super(message);
    }
}
