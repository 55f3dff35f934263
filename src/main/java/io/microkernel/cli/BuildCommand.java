package io.microkernel.cli;

import ai.onnxruntime.OrtEnvironment;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.LossKind;
import io.microkernel.compiler.ArtifactBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code artifacts build}: writes a training artifact set for an inference model, in pure Java, and
 * prints its description. Progress goes to {@code err}, the description to {@code out}.
 */
@Command(name = "build", mixinStandardHelpOptions = true, versionProvider = Versions.class, sortOptions = false,
        description = "Builds a training artifact set (training, eval and optimizer graphs, checkpoint) from an"
                + " inference model, in pure Java, then prints its description.")
final class BuildCommand implements Callable<Integer> {

    private final Cli.Streams streams;
    private final Supplier<OrtEnvironment> environment;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "MODEL.onnx", description = "the inference model")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the folder to write (created when missing)")
    Path target;

    @ArgGroup(exclusive = true, multiplicity = "1", heading = "The trainable parameters (one of):%n")
    Trainable trainable;

    static final class Trainable {
        @Option(names = "--trainable", required = true, paramLabel = "NAME,NAME", description = "these initializers")
        String names;

        @Option(names = "--trainable-pattern", required = true, paramLabel = "REGEX",
                description = "the float initializers whose whole name matches")
        String pattern;

        @Option(names = "--all-trainable", required = true, description = "every float initializer")
        boolean all;
    }

    @Option(names = "--loss", paramLabel = "cross-entropy|mse", converter = LossConverter.class,
            description = "the loss (default: cross-entropy)")
    LossKind loss;

    @Option(names = "--output", paramLabel = "NAME", description = "the model output to train (default: the only one)")
    String output;

    @Option(names = "--classes", paramLabel = "A,B,C", description = "class names, in index order, for manifest.json")
    String classes;

    @Option(names = "--lr-hint", paramLabel = "RATE", description = "a suggested learning rate, for manifest.json")
    Double learningRateHint;

    @Option(names = "--adamw", paramLabel = "ALPHA,BETA,EPSILON,WEIGHT_DECAY",
            description = "AdamW hyper-parameters (default: 0.9,0.999,1e-6,0)")
    String adamW;

    @Option(names = "--description", paramLabel = "TEXT", description = "free text for manifest.json")
    String description;

    BuildCommand(Cli.Streams streams, Supplier<OrtEnvironment> environment) {
        this.streams = streams;
        this.environment = environment;
    }

    @Override
    public Integer call() {
        streams.err().println("[1/3] reading " + model);
        ArtifactBuilder builder = configure(ArtifactBuilder.fromModel(model));
        streams.err().println("[2/3] loading ONNX Runtime");
        OrtEnvironment env = environment.get();
        streams.err().println("[3/3] deriving the training, eval and optimizer graphs and the checkpoint into " + target);
        ArtifactSet set = builder.build(env, target);
        streams.out().print(ArtifactsCommand.describe(set));
        streams.out().flush();
        return 0;
    }

    /** Applies every option to {@code builder}; a value that does not fit is a command-line error. */
    private ArtifactBuilder configure(ArtifactBuilder builder) {
        chooseTrainable(builder);
        if (loss != null) {
            builder.loss(loss);
        }
        if (output != null) {
            builder.output(output);
        }
        if (classes != null) {
            builder.classNames(list(classes, "--classes"));
        }
        if (learningRateHint != null) {
            if (!(learningRateHint > 0 && Double.isFinite(learningRateHint))) {
                throw usage("--lr-hint expects a positive number, found " + learningRateHint);
            }
            builder.learningRateHint(learningRateHint);
        }
        if (adamW != null) {
            configureAdamW(builder);
        }
        if (description != null) {
            builder.description(description);
        }
        return builder;
    }

    private void chooseTrainable(ArtifactBuilder builder) {
        if (trainable.all) {
            builder.allTrainable();
        } else if (trainable.names != null) {
            builder.trainable(list(trainable.names, "--trainable"));
        } else {
            try {
                builder.trainablePattern(Pattern.compile(trainable.pattern));
            } catch (PatternSyntaxException e) {
                throw usage("--trainable-pattern is not a regular expression: " + e.getDescription());
            }
        }
    }

    private void configureAdamW(ArtifactBuilder builder) {
        List<String> parts = list(adamW, "--adamw");
        if (parts.size() != 4) {
            throw usage("--adamw expects ALPHA,BETA,EPSILON,WEIGHT_DECAY, found '" + adamW + "'");
        }
        try {
            builder.adamW(number(parts.get(0)), number(parts.get(1)), number(parts.get(2)), number(parts.get(3)));
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    private List<String> list(String value, String option) {
        List<String> items = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            String item = part.strip();
            if (item.isEmpty()) {
                throw usage(option + " holds an empty item: '" + value + "'");
            }
            items.add(item);
        }
        return items;
    }

    private double number(String value) {
        try {
            return Double.parseDouble(value.strip());
        } catch (NumberFormatException e) {
            throw usage("--adamw expects numbers, found '" + value + "'");
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** {@code cross-entropy} (or {@code cross_entropy}) and {@code mse}. */
    static final class LossConverter implements ITypeConverter<LossKind> {
        @Override
        public LossKind convert(String value) {
            return switch (value) {
                case "cross-entropy", "cross_entropy" -> LossKind.CROSS_ENTROPY;
                case "mse" -> LossKind.MSE;
                default -> throw new TypeConversionException("expects cross-entropy or mse, found '" + value + "'");
            };
        }
    }
}
