package io.microkernel.store;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One published, intact version of a model, as its manifest describes it. Immutable.
 *
 * @param version         the version number, 1, 2, 3... in publish order
 * @param lineage         parent, round, samples and metrics
 * @param classNames      class names of a classifier, in output order; empty for regression
 * @param inferenceOutput the graph output that carries the model's answer (scores or values)
 * @param fileHashes      SHA-256 (hex) of every file of the version, by file name
 * @param created         when the version was published
 * @param dir             the folder holding its files
 */
public record ModelVersion(
        int version,
        Lineage lineage,
        List<String> classNames,
        String inferenceOutput,
        Map<String, String> fileHashes,
        Instant created,
        Path dir) {

    public ModelVersion {
        classNames = List.copyOf(classNames);
        fileHashes = Map.copyOf(fileHashes);
    }

    /** The inference graph served for this version. */
    public Path inferenceModel() {
        return dir.resolve(ModelStore.INFERENCE_MODEL);
    }

    /** The training checkpoint a round of this version starts from. Never modify it in place. */
    public Path checkpoint() {
        return dir.resolve(ModelStore.CHECKPOINT);
    }
}
