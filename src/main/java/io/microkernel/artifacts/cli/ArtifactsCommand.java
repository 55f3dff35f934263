package io.microkernel.artifacts.cli;

import java.io.PrintStream;

/** {@code artifacts build|inspect|make-default ...}: the command-line artifact tool. */
public final class ArtifactsCommand {

    private ArtifactsCommand() {
    }

    /** Runs one command; returns the process exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        err.println("usage: artifacts build|inspect|make-default ...");
        return 2;
    }
}
