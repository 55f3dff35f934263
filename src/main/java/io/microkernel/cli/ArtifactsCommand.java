package io.microkernel.cli;

import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.LossKind;
import io.microkernel.artifacts.ParameterSpec;
import io.microkernel.tensor.TensorSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code artifacts inspect|build|make-default|samples ...}: the artifact tools. The group itself only
 * names its commands: run without one, it is a command-line error.
 */
@Command(name = "artifacts", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        description = "Inspects and builds ONNX Runtime training artifact sets, without starting the server.",
        footer = {"", "Exit codes: 0 done, 1 the work failed, 2 wrong command line."})
final class ArtifactsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command");
    }

    /** The description as {@code inspect} and {@code build} print it. */
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
}
