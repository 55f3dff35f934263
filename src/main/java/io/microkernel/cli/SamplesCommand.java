package io.microkernel.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.microkernel.demo.ShapeImages;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code artifacts samples [--style source|target] [--count N] [--seed N]}: prints labelled shape
 * images as the body of {@code POST /v1/models/default/samples}, so the default model can be taught
 * the target style from a shell. Deterministic by seed.
 */
@Command(name = "samples", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        description = "Prints labelled shape images as the JSON body of POST /v1/models/default/samples.")
final class SamplesCommand implements Callable<Integer> {

    private final Cli.Streams streams;

    @Spec
    CommandSpec spec;

    @Option(names = "--style", paramLabel = "source|target", description = "the drawing style (default: target)")
    ShapeImages.Domain style = ShapeImages.Domain.TARGET;

    @Option(names = "--count", paramLabel = "N", description = "how many samples, 1..100000 (default: ${DEFAULT-VALUE})")
    int count = 200;

    @Option(names = "--seed", paramLabel = "N", description = "the seed (default: ${DEFAULT-VALUE})")
    long seed = 1;

    SamplesCommand(Cli.Streams streams) {
        this.streams = streams;
    }

    @Override
    public Integer call() {
        if (count < 1 || count > 100_000) {
            throw new ParameterException(spec.commandLine(), "--count expects 1..100000, found " + count);
        }
        ShapeImages.Batch batch = ShapeImages.generate(style, count, seed);
        try {
            streams.out().println(new ObjectMapper().writeValueAsString(Map.of("samples", batch.asJsonSamples())));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        return 0;
    }
}
