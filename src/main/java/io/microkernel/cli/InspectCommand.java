package io.microkernel.cli;

import io.microkernel.artifacts.ArtifactSet;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code artifacts inspect DIR}: opens an artifact set, validates it and prints what it holds. */
@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        description = "Opens and validates an artifact set, then prints its inputs, label, loss, classes and parameters.")
final class InspectCommand implements Callable<Integer> {

    private final Cli.Streams streams;

    @Parameters(paramLabel = "DIR", description = "the artifact set folder")
    Path dir;

    InspectCommand(Cli.Streams streams) {
        this.streams = streams;
    }

    @Override
    public Integer call() {
        streams.out().print(ArtifactsCommand.describe(ArtifactSet.open(dir)));
        streams.out().flush();
        return 0;
    }
}
