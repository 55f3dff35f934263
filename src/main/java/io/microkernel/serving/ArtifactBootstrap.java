package io.microkernel.serving;

import ai.onnxruntime.OrtEnvironment;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import java.nio.file.Path;

/**
 * Creates version 1 of an empty store from an artifact set: the set becomes the store's base, its
 * checkpoint version 1's checkpoint, and the exported inference graph version 1's served model.
 */
public final class ArtifactBootstrap {

    private ArtifactBootstrap() {
    }

    /**
     * @throws io.microkernel.artifacts.ArtifactException when the artifact set is missing or broken
     * @throws io.microkernel.problem.ProblemException (store-error) when the store is not empty or cannot be written
     */
    public static ModelVersion bootstrap(ModelStore store, Path artifactDir, OrtEnvironment env) {
        ArtifactSet set = ArtifactSet.open(artifactDir);
        ArtifactDescription description = set.description();
        return store.bootstrap(artifactDir, description.classNames(), description.inferenceOutput(),
                (checkpoint, target) -> set.exportInference(env, checkpoint, target));
    }
}
