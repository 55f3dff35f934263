package io.microkernel.cli;

import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.ArtifactException;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.LossKind;
import io.microkernel.artifacts.ParameterSpec;
import io.microkernel.tensor.TensorSpec;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * {@code artifacts build|inspect|make-default ...}: the command-line artifact tool.
 *
 * <p>{@code make-default} lives in its own class, {@value #MAKE_DEFAULT_CLASS}, with the same
 * {@code static int run(String[], PrintStream, PrintStream)} signature as this one; it is looked up
 * when asked for, so builds without it still offer the other commands.
 *
 * <p>Exit codes: 0 done, 1 the work failed (one line on {@code err}), 2 the command line is wrong.
 */
public final class ArtifactsCommand {

    static final String MAKE_DEFAULT_CLASS = "io.microkernel.demo.MakeDefaultCommand";

    static final String USAGE_INSPECT = "artifacts inspect DIR";
    static final String USAGE_BUILD = "artifacts build --model MODEL.onnx --out DIR"
            + " [--trainable NAME,NAME | --trainable-pattern REGEX | --all-trainable]"
            + " [--loss cross-entropy|mse] [--output NAME] [--classes A,B,C] [--lr-hint RATE]"
            + " [--adamw ALPHA,BETA,EPSILON,WEIGHT_DECAY] [--description TEXT]";
    static final String USAGE = "usage: artifacts inspect|build|make-default|samples ...; " + USAGE_INSPECT + "; " + USAGE_BUILD;

    private ArtifactsCommand() {
    }

    /** A wrong command line: reported with exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /** Runs one command; returns the process exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println("artifacts: missing command; " + USAGE);
            return 2;
        }
        String command = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (command) {
                case "inspect":
                    return inspect(rest, out);
                case "build":
                    return build(rest, out);
                case "make-default":
                    return makeDefault(rest, out, err);
                case "samples":
                    return io.microkernel.demo.SamplesCommand.run(rest, out, err);
                case "help":
                case "--help":
                case "-h":
                    out.println(USAGE);
                    return 0;
                default:
                    throw new UsageException("unknown command '" + command + "'");
            }
        } catch (UsageException e) {
            String usage = switch (command) {
                case "inspect" -> USAGE_INSPECT;
                case "build" -> USAGE_BUILD;
                default -> USAGE.substring("usage: ".length());
            };
            err.println("artifacts " + command + ": " + e.getMessage() + "; usage: " + usage);
            return 2;
        } catch (ArtifactException e) {
            err.println("error: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            err.println("error: " + message);
            return 1;
        }
    }

    // ------------------------------------------------------------ inspect

    private static int inspect(String[] args, PrintStream out) {
        if (args.length != 1 || args[0].startsWith("--")) {
            throw new UsageException("expected one artifact folder");
        }
        ArtifactSet set = ArtifactSet.open(Path.of(args[0]));
        out.print(describe(set));
        return 0;
    }

    /** The description as {@code inspect} prints it. */
    static String describe(ArtifactSet set) {
        ArtifactDescription d = set.description();
        StringBuilder s = new StringBuilder();
        s.append("artifact set: ").append(set.dir()).append('\n');
        s.append("manifest: ").append(set.manifest().map(Path::toString).orElse("none")).append('\n');
        s.append("inputs:\n");
        for (TensorSpec in : d.inputs()) {
            s.append("  ").append(in.name()).append(' ').append(in.dtype()).append(' ').append(in.shapeText()).append('\n');
        }
        s.append("label: ").append(d.label().name()).append(' ').append(d.label().dtype()).append(' ')
                .append(d.label().shapeText()).append('\n');
        s.append("loss: ").append(d.loss() == LossKind.CROSS_ENTROPY ? "cross-entropy" : "mse").append('\n');
        s.append("inference output: ").append(d.inferenceOutput()).append('\n');
        if (d.loss() == LossKind.CROSS_ENTROPY) {
            s.append("classes: ").append(d.numClasses()).append(" (").append(String.join(", ", d.classNames()))
                    .append(")\n");
        }
        parameters(s, "trainable", d.trainable(), d.trainableCount());
        parameters(s, "frozen", d.frozen(), d.frozenCount());
        return s.toString();
    }

    private static void parameters(StringBuilder s, String kind, List<ParameterSpec> specs, long total) {
        s.append(kind).append(" parameters: ").append(specs.size()).append(" tensors, ").append(total)
                .append(" values\n");
        for (ParameterSpec p : specs) {
            s.append("  ").append(p.name()).append(' ')
                    .append(p.shape().stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]")))
                    .append(' ').append(p.count()).append('\n');
        }
    }

    // ------------------------------------------------------------ build

    private static final Set<String> BUILD_FLAGS = Set.of("--model", "--out", "--trainable", "--trainable-pattern",
            "--loss", "--output", "--classes", "--lr-hint", "--adamw", "--description");

    private static int build(String[] args, PrintStream out) {
        Map<String, String> options = new LinkedHashMap<>();
        boolean all = false;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--all-trainable")) {
                all = true;
                continue;
            }
            String value = null;
            int eq = flag.indexOf('=');
            if (flag.startsWith("--") && eq > 0) {
                value = flag.substring(eq + 1);
                flag = flag.substring(0, eq);
            }
            if (!BUILD_FLAGS.contains(flag)) {
                throw new UsageException("unknown option '" + flag + "'");
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new UsageException(flag + " needs a value");
                }
                value = args[++i];
            }
            if (options.put(flag, value) != null) {
                throw new UsageException(flag + " given twice");
            }
        }
        String model = options.get("--model");
        String target = options.get("--out");
        if (model == null || target == null) {
            throw new UsageException(model == null ? "missing --model" : "missing --out");
        }
        int choices = (all ? 1 : 0) + (options.containsKey("--trainable") ? 1 : 0)
                + (options.containsKey("--trainable-pattern") ? 1 : 0);
        if (choices != 1) {
            throw new UsageException(choices == 0
                    ? "choose the trainable parameters with --trainable, --trainable-pattern or --all-trainable"
                    : "--trainable, --trainable-pattern and --all-trainable exclude each other");
        }

        ArtifactBuilder builder = ArtifactBuilder.fromModel(Path.of(model));
        if (all) {
            builder.allTrainable();
        } else if (options.containsKey("--trainable")) {
            builder.trainable(list(options.get("--trainable"), "--trainable"));
        } else {
            try {
                builder.trainablePattern(Pattern.compile(options.get("--trainable-pattern")));
            } catch (PatternSyntaxException e) {
                throw new UsageException("--trainable-pattern is not a regular expression: " + e.getDescription());
            }
        }
        if (options.containsKey("--loss")) {
            builder.loss(switch (options.get("--loss")) {
                case "cross-entropy", "cross_entropy" -> LossKind.CROSS_ENTROPY;
                case "mse" -> LossKind.MSE;
                default -> throw new UsageException("--loss expects cross-entropy or mse, found '" + options.get("--loss") + "'");
            });
        }
        if (options.containsKey("--output")) {
            builder.output(options.get("--output"));
        }
        if (options.containsKey("--classes")) {
            builder.classNames(list(options.get("--classes"), "--classes"));
        }
        if (options.containsKey("--lr-hint")) {
            double rate = number(options.get("--lr-hint"), "--lr-hint");
            if (!(rate > 0)) {
                throw new UsageException("--lr-hint expects a positive number, found " + options.get("--lr-hint"));
            }
            builder.learningRateHint(rate);
        }
        if (options.containsKey("--adamw")) {
            List<String> parts = list(options.get("--adamw"), "--adamw");
            if (parts.size() != 4) {
                throw new UsageException("--adamw expects ALPHA,BETA,EPSILON,WEIGHT_DECAY, found '" + options.get("--adamw") + "'");
            }
            try {
                builder.adamW(number(parts.get(0), "--adamw"), number(parts.get(1), "--adamw"),
                        number(parts.get(2), "--adamw"), number(parts.get(3), "--adamw"));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }
        if (options.containsKey("--description")) {
            builder.description(options.get("--description"));
        }
        ArtifactSet set = builder.build(Path.of(target));
        out.print(describe(set));
        return 0;
    }

    private static List<String> list(String value, String flag) {
        List<String> items = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            String item = part.strip();
            if (item.isEmpty()) {
                throw new UsageException(flag + " holds an empty item: '" + value + "'");
            }
            items.add(item);
        }
        return items;
    }

    private static double number(String value, String flag) {
        try {
            return Double.parseDouble(value.strip());
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " expects a number, found '" + value + "'");
        }
    }

    // ------------------------------------------------------------ make-default

    private static int makeDefault(String[] args, PrintStream out, PrintStream err) {
        Method run;
        try {
            run = Class.forName(MAKE_DEFAULT_CLASS).getMethod("run", String[].class, PrintStream.class, PrintStream.class);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            err.println("artifacts make-default: not available in this build");
            return 2;
        }
        try {
            return (int) run.invoke(null, args, out, err);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
