package io.microkernel;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * Entry point: {@code java -jar onnx-microkernel.jar} serves; {@code ... artifacts <command>} runs the
 * artifact tool without starting the server.
 */
@QuarkusMain
public class Main {

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals("artifacts")) {
            String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
            System.exit(io.microkernel.cli.ArtifactsCommand.run(rest, System.out, System.err));
        }
        Quarkus.run(args);
    }
}
