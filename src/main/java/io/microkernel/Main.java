package io.microkernel;

import io.microkernel.cli.Cli;
import io.microkernel.runtime.StartupTimeline;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * Entry point: {@code java -jar onnx-microkernel.jar} (or {@code ... serve}) serves;
 * {@code ... artifacts <command>} runs an artifact tool, {@code --help} and {@code --version} answer,
 * all without starting the server. See {@link Cli}.
 */
@QuarkusMain
public class Main {

    public static void main(String... args) {
        StartupTimeline.main();
        Cli.Result result = Cli.execute(args, System.out, System.err, Quarkus::run);
        if (!result.served()) {
            System.exit(result.exitCode());
        }
    }
}
