package io.microkernel.cli;

import ai.onnxruntime.OrtEnvironment;
import io.microkernel.demo.DefaultModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code artifacts make-default DIR [--seed N] [--threads N]}: makes the embedded default model from
 * scratch with the project's own code ({@link DefaultModel#make}), then prints what it measured.
 * Progress lines ({@code [1/4] pretraining the backbone: epoch 3/6 ...}) go to {@code err}, the table
 * to {@code out}.
 */
@Command(name = "make-default", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        description = {"Makes the default model (models/default) from scratch: pretrains the backbone, fits a head,"
                + " writes the artifact set to DIR, then measures head training on target-style samples.",
                "Takes minutes; deterministic by seed with --threads 1."})
final class MakeDefaultCommand implements Callable<Integer> {

    private final Cli.Streams streams;
    private final Supplier<OrtEnvironment> environment;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "the artifact set folder to write")
    Path target;

    @Option(names = "--seed", paramLabel = "N", description = "the seed of every step (default: ${DEFAULT-VALUE})")
    long seed = DefaultModel.DEFAULT_SEED;

    @Option(names = "--reference-set-only", description = "only add the source-style reference set (and its"
            + " manifest entry) to the artifact set already in DIR")
    boolean referenceSetOnly;

    @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE})")
    int threads = 1;

    MakeDefaultCommand(Cli.Streams streams, Supplier<OrtEnvironment> environment) {
        this.streams = streams;
        this.environment = environment;
    }

    @Override
    public Integer call() {
        if (threads < 1) {
            throw new ParameterException(spec.commandLine(), "expected --threads >= 1, found " + threads);
        }
        if (referenceSetOnly) {
            io.microkernel.demo.ReferenceSetFile.write(target, seed);
            streams.out().println("wrote " + target.resolve(io.microkernel.demo.ReferenceSetFile.FILE));
            return 0;
        }
        DefaultModel.Report report = DefaultModel.make(environment.get(), target, seed, threads, streams.err());
        streams.out().println(report.table());
        return 0;
    }
}
