package io.microkernel.artifacts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The optional {@code manifest.json} of an artifact set: class names and overrides of what the graphs say.
 * Every field may be absent.
 *
 * @param classes         class names, index order
 * @param inferenceOutput the tensor to export for inference
 * @param label           the label input
 * @param loss            {@code cross_entropy} or {@code mse}
 * @param description     free text
 * @param learningRate    a suggested learning rate for this set
 * @param referenceSet    the file (in the set's folder) holding the labelled reference set the gate
 *                        guards against forgetting with: JSON Lines, one {@code {"input": ..., "label": ...}}
 *                        per line, as {@code POST /v1/models/{m}/samples} takes them
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        @JsonProperty("classes") List<String> classes,
        @JsonProperty("inference_output") String inferenceOutput,
        @JsonProperty("label") String label,
        @JsonProperty("loss") String loss,
        @JsonProperty("description") String description,
        @JsonProperty("learning_rate") Double learningRate,
        @JsonProperty("reference_set") String referenceSet) {

    public Manifest(List<String> classes, String inferenceOutput, String label, String loss, String description,
            Double learningRate) {
        this(classes, inferenceOutput, label, loss, description, learningRate, null);
    }

    /** The same manifest naming a reference set file. */
    public Manifest withReferenceSet(String file) {
        return new Manifest(classes, inferenceOutput, label, loss, description, learningRate, file);
    }

    /**
     * The reference set the manifest in {@code folder} names, if it names one.
     *
     * @throws ArtifactException when the named file is not a plain file inside the folder
     */
    public static Optional<Path> referenceSetIn(Path folder) {
        Path manifestFile = folder.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) {
            return Optional.empty();
        }
        String name = read(manifestFile).referenceSet();
        if (name == null) {
            return Optional.empty();
        }
        Path file = folder.resolve(name).normalize();
        if (!file.startsWith(folder.normalize()) || !Files.isRegularFile(file)) {
            throw new ArtifactException(manifestFile, "\"reference_set\" expected a file inside the artifact folder, found \""
                    + name + "\"");
        }
        return Optional.of(file);
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Reads and checks a manifest; any problem is one line naming the file. */
    public static Manifest read(Path file) {
        Manifest m;
        try {
            m = JSON.readValue(file.toFile(), Manifest.class);
        } catch (JsonProcessingException e) {
            throw new ArtifactException(file, "invalid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""), e);
        } catch (IOException e) {
            throw new ArtifactException(file, "cannot read: " + e.getMessage(), e);
        }
        if (m == null) {
            throw new ArtifactException(file, "expected a JSON object, found null");
        }
        if (m.classes != null) {
            if (m.classes.isEmpty()) {
                throw new ArtifactException(file, "\"classes\" is empty; expected at least one class name");
            }
            if (m.classes.stream().anyMatch(c -> c == null || c.isBlank())) {
                throw new ArtifactException(file, "\"classes\" holds a null or blank name");
            }
            if (m.classes.stream().distinct().count() != m.classes.size()) {
                throw new ArtifactException(file, "\"classes\" holds duplicate names");
            }
        }
        if (m.loss != null && m.lossKind().isEmpty()) {
            throw new ArtifactException(file, "\"loss\" expected \"cross_entropy\" or \"mse\", found \"" + m.loss + "\"");
        }
        if (m.learningRate != null && !(m.learningRate > 0 && Double.isFinite(m.learningRate))) {
            throw new ArtifactException(file, "\"learning_rate\" expected a positive number, found " + m.learningRate);
        }
        return m;
    }

    public void write(Path file) {
        try {
            Files.writeString(file, JSON.writeValueAsString(this) + "\n");
        } catch (IOException e) {
            throw new ArtifactException(file, "cannot write: " + e.getMessage(), e);
        }
    }

    /** The loss field as a {@link LossKind}, when present and known. */
    public Optional<LossKind> lossKind() {
        if (loss == null) {
            return Optional.empty();
        }
        return switch (loss.toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "cross_entropy" -> Optional.of(LossKind.CROSS_ENTROPY);
            case "mse" -> Optional.of(LossKind.MSE);
            default -> Optional.empty();
        };
    }

    /** The manifest spelling of a loss kind. */
    public static String lossName(LossKind kind) {
        return kind == LossKind.CROSS_ENTROPY ? "cross_entropy" : "mse";
    }
}
