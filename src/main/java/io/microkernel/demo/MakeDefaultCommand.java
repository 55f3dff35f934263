package io.microkernel.demo;

import ai.onnx.proto.OnnxMl.ModelProto;
import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.artifacts.ArtifactException;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.runtime.OrtRuntime;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@code artifacts make-default DIR [--seed N] [--threads N]}: makes the embedded default model from
 * scratch with the project's own code, then measures it.
 *
 * <p>The recipe, every step seeded:
 * <ol>
 *   <li>pretrain the whole network (everything trainable) on {@link DefaultModel#pretrainingData};</li>
 *   <li>give it a fresh six-class head and fit only the head on the source style;</li>
 *   <li>write that model as an artifact set whose only trainable parameters are the head's, with the
 *       class names in its manifest;</li>
 *   <li>report held-out accuracy on both styles, before and after training the head on target-style
 *       samples as the service would.</li>
 * </ol>
 */
public final class MakeDefaultCommand {

    static final String USAGE = "artifacts make-default DIR [--seed N] [--threads N]";

    private MakeDefaultCommand() {
    }

    /** Runs the command; returns the exit code (0 done, 1 failed, 2 wrong command line). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Path target = null;
        long seed = DefaultModel.DEFAULT_SEED;
        int threads = 1;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--seed" -> seed = Long.parseLong(value(args, ++i, "--seed"));
                    case "--threads" -> threads = Integer.parseInt(value(args, ++i, "--threads"));
                    default -> {
                        if (args[i].startsWith("-") || target != null) {
                            throw new IllegalArgumentException("unexpected argument '" + args[i] + "'");
                        }
                        target = Path.of(args[i]);
                    }
                }
            }
            if (target == null) {
                throw new IllegalArgumentException("missing DIR");
            }
            if (threads < 1) {
                throw new IllegalArgumentException("expected --threads >= 1, found " + threads);
            }
        } catch (IllegalArgumentException e) {
            err.println("artifacts make-default: " + e.getMessage() + "; usage: " + USAGE);
            return 2;
        }
        try {
            DefaultModel.Report report = DefaultModel.make(OrtRuntime.get().environment(), target, seed, threads, out);
            out.println(report.table());
            return 0;
        } catch (ArtifactException | UncheckedIOException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
    }

    private static String value(String[] args, int index, String option) {
        if (index >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[index];
    }

    /** Deletes a working folder and everything in it. */
    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String percent(double share) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * share);
    }

    static ArtifactSet buildHeadOnly(ModelProto model, Path dir, List<String> classNames, String description) {
        ArtifactBuilder builder = ArtifactBuilder.fromModel(model).trainable(ShapeClassifier.HEAD_PARAMETERS)
                .learningRateHint(DefaultModel.HEAD_LEARNING_RATE);
        if (!classNames.isEmpty()) {
            builder.classNames(classNames);
        }
        if (description != null) {
            builder.description(description);
        }
        return builder.build(dir);
    }
}
