package io.microkernel.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code selfcheck [DIR]}: proves this machine can run the service without starting it. Loads ONNX
 * Runtime (the native library for this CPU), trains one step on an artifact set, exports the trained
 * model, runs it, and prints the versions and each result. Exit code 0 when every step passed, 1 with
 * the failed step on {@code err} otherwise.
 */
@Command(name = "selfcheck", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        description = {"Loads ONNX Runtime, trains one step on an artifact set, exports and runs the trained model,"
                + " and prints the versions; exit code 0 when every step passed."})
final class SelfCheckCommand implements Callable<Integer> {

    private final Cli.Streams streams;

    @Parameters(paramLabel = "DIR", arity = "0..1", defaultValue = "models/default",
            description = "the artifact set to train and export (default: ${DEFAULT-VALUE})")
    Path dir;

    SelfCheckCommand(Cli.Streams streams) {
        this.streams = streams;
    }

    @Override
    public Integer call() throws Exception {
        new SelfCheck(streams.out()).run(dir);
        streams.out().flush();
        return 0;
    }
}
