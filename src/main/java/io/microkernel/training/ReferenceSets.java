package io.microkernel.training;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.Manifest;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.store.Durable;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The model's reference set: the one an operator uploaded ({@code reference/reference.jsonl} in the
 * model's folder), else the one the artifact set's {@code manifest.json} names, else none.
 *
 * <p>The file format is JSON Lines: one labelled sample per line, {@code {"input": <one instance>,
 * "label": <class name, class index or target>}} (multi-input models: {@code "inputs": {name: value}}),
 * exactly what {@code POST /v1/models/{m}/samples} takes inside its {@code samples} array. Blank lines
 * are skipped.
 *
 * <p>Thread-safe: the set is read once and cached; an upload replaces it atomically.
 */
public final class ReferenceSets {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path baseDir;
    private final Path uploaded;
    private final Supplier<ArtifactDescription> description;
    private final RequestTranslator translator;
    private volatile Optional<ReferenceSet> cached;

    /**
     * @param baseDir     the artifact set the model started from (its manifest may name a reference set)
     * @param uploaded    where an uploaded reference set is kept
     * @param description what the model takes and learns
     * @param translator  turns instances into tensors, with serving's validation
     */
    public ReferenceSets(Path baseDir, Path uploaded, Supplier<ArtifactDescription> description,
            RequestTranslator translator) {
        this.baseDir = baseDir;
        this.uploaded = uploaded;
        this.description = description;
        this.translator = translator;
    }

    /** The reference set in force, if any. */
    public Optional<ReferenceSet> current() {
        Optional<ReferenceSet> set = cached;
        if (set == null) {
            synchronized (this) {
                set = cached;
                if (set == null) {
                    set = load();
                    cached = set;
                }
            }
        }
        return set;
    }

    /**
     * Replaces the reference set with these lines (each one sample in the file format), after checking
     * that every one fits the model.
     *
     * @throws InvalidSampleException or {@link InputValidationException} naming the first line that does not fit
     */
    public synchronized ReferenceSet replace(List<String> lines) {
        ReferenceSet set = new ReferenceSet(parse(lines), "uploaded");
        try {
            Files.createDirectories(uploaded.getParent());
            Durable.replace(uploaded, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store the reference set in " + uploaded + ": " + e.getMessage(), e);
        }
        cached = Optional.of(set);
        return set;
    }

    private Optional<ReferenceSet> load() {
        try {
            if (Files.isRegularFile(uploaded)) {
                return Optional.of(new ReferenceSet(parse(Files.readAllLines(uploaded, StandardCharsets.UTF_8)),
                        "uploaded"));
            }
            Optional<Path> shipped = Files.isDirectory(baseDir) ? Manifest.referenceSetIn(baseDir) : Optional.empty();
            if (shipped.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new ReferenceSet(parse(Files.readAllLines(shipped.get(), StandardCharsets.UTF_8)),
                    "artifact set"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the reference set: " + e.getMessage(), e);
        }
    }

    /** Reads the lines into samples, numbered -1, -2, ... */
    List<Sample> parse(List<String> lines) {
        ArtifactDescription model = description.get();
        LabelDomain labels = new LabelDomain(model);
        List<Sample> samples = new ArrayList<>();
        int row = 0;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Tensor> inputs = new LinkedHashMap<>();
            SampleLabel label;
            try {
                JsonNode node = JSON.readTree(line);
                JsonNode input = node.has("inputs") ? node.get("inputs") : node.get("input");
                if (input == null) {
                    throw new InvalidSampleException("reference sample " + row
                            + ": expected an object with 'input' (or 'inputs') and 'label', found " + node.getNodeType());
                }
                label = labels.parse(row, node.get("label"));
                List<NamedTensor> tensors = translator.fromInstances(model.inputs(), List.of(tokens(input)));
                tensors.forEach(t -> inputs.put(t.name(), t.tensor().row(0)));
            } catch (IOException e) {
                throw new InvalidSampleException("reference sample " + row + ": expected a JSON object, found "
                        + e.getMessage().lines().findFirst().orElse(""));
            } catch (InputValidationException e) {
                throw new InvalidSampleException("reference sample " + row + ": " + e.getMessage());
            }
            samples.add(new Sample(-(row + 1), 0, inputs, label));
            row++;
        }
        if (samples.isEmpty()) {
            throw new InvalidSampleException("reference set: expected at least 1 sample, found 0");
        }
        return samples;
    }

    private static TokenBuffer tokens(JsonNode node) throws IOException {
        try (JsonParser parser = JSON.treeAsTokens(node)) {
            parser.nextToken();
            TokenBuffer buffer = TokenBuffer.asCopyOfValue(parser);
            if (parser.currentToken() == JsonToken.NOT_AVAILABLE) {
                throw new IOException("unreadable input");
            }
            return buffer;
        }
    }
}
