package io.microkernel.artifacts;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.runtime.OrtSessions;
import io.microkernel.artifacts.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A validated ONNX Runtime training artifact set: {@code training_model.onnx}, {@code eval_model.onnx},
 * {@code optimizer_model.onnx}, {@code checkpoint} and an optional {@code manifest.json} in one folder.
 *
 * <p>{@link #open(Path)} reads the graphs and the checkpoint once and derives an
 * {@link ArtifactDescription}; no manifest is needed for sets made by Python's
 * {@code generate_artifacts}. The object is immutable and thread-safe; the sessions it opens belong to
 * the caller. Every name handed to ONNX Runtime was checked against the graphs first, because some
 * native calls crash the JVM on an unknown or null name instead of throwing.
 */
public final class ArtifactSet {

    public static final String TRAINING_MODEL = "training_model.onnx";
    public static final String EVAL_MODEL = "eval_model.onnx";
    public static final String OPTIMIZER_MODEL = "optimizer_model.onnx";
    public static final String CHECKPOINT = "checkpoint";
    public static final String MANIFEST = "manifest.json";

    /** The inputs ONNX Runtime requires of an AdamW optimizer graph, in order. */
    static final List<String> ADAMW_INPUTS = List.of("learning_rate", "step", "params", "gradients",
            "first_order_moments", "second_order_moments");

    private final Path dir;
    private final ArtifactDescription description;
    private final Optional<Path> manifest;

    private ArtifactSet(Path dir, ArtifactDescription description, Optional<Path> manifest) {
        this.dir = dir;
        this.description = description;
        this.manifest = manifest;
    }

    /**
     * Opens and validates an artifact folder.
     *
     * @throws ArtifactException one line naming the file and the cause: a missing file, an old
     *                           directory-format checkpoint, a checkpoint parameter the graph lacks, an
     *                           unsupported label dtype, an unreadable graph...
     */
    public static ArtifactSet open(Path dir) {
        Objects.requireNonNull(dir, "dir");
        Path folder = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(folder)) {
            throw new ArtifactException(folder, Files.exists(folder) ? "expected an artifact folder, found a file"
                    : "missing artifact folder");
        }
        Path checkpoint = folder.resolve(CHECKPOINT);
        if (Files.isDirectory(checkpoint)) {
            Checkpoint.checkIsFileCheckpoint(checkpoint);
        }
        for (String name : List.of(TRAINING_MODEL, EVAL_MODEL, OPTIMIZER_MODEL, CHECKPOINT)) {
            if (!Files.exists(folder.resolve(name))) {
                throw new ArtifactException(folder.resolve(name), "missing file; an artifact set holds "
                        + TRAINING_MODEL + ", " + EVAL_MODEL + ", " + OPTIMIZER_MODEL + " and " + CHECKPOINT);
            }
        }
        ModelProto training = Onnx.read(folder.resolve(TRAINING_MODEL));
        ModelProto eval = Onnx.read(folder.resolve(EVAL_MODEL));
        checkOptimizer(folder.resolve(OPTIMIZER_MODEL));
        Checkpoint state = Checkpoint.read(checkpoint);
        Path manifestFile = folder.resolve(MANIFEST);
        Optional<Manifest> manifest = Files.isRegularFile(manifestFile)
                ? Optional.of(Manifest.read(manifestFile)) : Optional.empty();
        ArtifactDescription description = new Describer(folder, training, eval, state, manifest).describe();
        return new ArtifactSet(folder, description, manifest.map(m -> manifestFile));
    }

    private static void checkOptimizer(Path file) {
        ModelProto optimizer = Onnx.read(file);
        List<String> inputs = optimizer.getGraph().getInputList().stream().map(ValueInfoProto::getName).toList();
        if (!inputs.equals(ADAMW_INPUTS)) {
            throw new ArtifactException(file, "expected an AdamW optimizer graph with inputs " + ADAMW_INPUTS
                    + ", found " + inputs);
        }
    }

    public Path dir() {
        return dir;
    }

    public Path trainingModel() {
        return dir.resolve(TRAINING_MODEL);
    }

    public Path evalModel() {
        return dir.resolve(EVAL_MODEL);
    }

    public Path optimizerModel() {
        return dir.resolve(OPTIMIZER_MODEL);
    }

    /** The checkpoint the set was made with. */
    public Path checkpoint() {
        return dir.resolve(CHECKPOINT);
    }

    public Optional<Path> manifest() {
        return manifest;
    }

    public ArtifactDescription description() {
        return description;
    }

    /**
     * Opens a new training session over these graphs and the given checkpoint file (this set's own, or
     * one saved later by a session over the same graphs). The caller closes it.
     *
     * @throws ArtifactException when the checkpoint is missing or malformed, or ONNX Runtime refuses the set
     */
    public OrtTrainingSession openTrainingSession(OrtEnvironment env, Path checkpoint, OrtSession.SessionOptions options) {
        Objects.requireNonNull(env, "env");
        Objects.requireNonNull(options, "options");
        Path file = Objects.requireNonNull(checkpoint, "checkpoint").toAbsolutePath();
        Checkpoint.checkIsFileCheckpoint(file);
        try {
            return env.createTrainingSession(file.toString(), trainingModel().toString(), evalModel().toString(),
                    optimizerModel().toString(), options);
        } catch (OrtException e) {
            throw new ArtifactException(file, "ONNX Runtime cannot open a training session over " + dir + ": "
                    + firstLine(e), e);
        }
    }

    /**
     * Writes the inference model of {@code checkpoint} to {@code target}: the eval graph cut at
     * {@link ArtifactDescription#inferenceOutput()}, with the checkpoint's parameters as initializers.
     *
     * @throws ArtifactException when the checkpoint cannot be loaded or the export fails
     */
    public void exportInference(OrtEnvironment env, Path checkpoint, Path target) {
        Objects.requireNonNull(target, "target");
        String output = description.inferenceOutput();
        if (output == null || output.isEmpty()) {
            throw new ArtifactException(evalModel(), "no inference output known; name it in " + MANIFEST);
        }
        Path parent = target.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new ArtifactException(target, "the target folder does not exist");
        }
        try (OrtSession.SessionOptions options = OrtSessions.options(1, 1)) {
            try (OrtTrainingSession session = openTrainingSession(env, checkpoint, options)) {
                session.exportModelForInference(target.toAbsolutePath(), new String[] {output});
            }
        } catch (OrtException e) {
            throw new ArtifactException(target, "ONNX Runtime cannot export output '" + output + "': " + firstLine(e), e);
        }
    }

    static String firstLine(Exception e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m).strip();
    }

    @Override
    public String toString() {
        return "ArtifactSet[" + dir + "]";
    }
}
