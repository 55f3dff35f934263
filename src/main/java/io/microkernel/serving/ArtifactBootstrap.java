package io.microkernel.serving;

import ai.onnxruntime.OrtEnvironment;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import io.microkernel.store.StoreException;
import java.nio.file.Path;

/** Creates version 1 of an empty store from an artifact set. */
final class ArtifactBootstrap {

    private ArtifactBootstrap() {
    }

    static ModelVersion bootstrap(ModelStore store, Path artifactDir, OrtEnvironment env) {
        throw new StoreException("bootstrapping from an artifact set is not available in this build: expected "
                + "io.microkernel.artifacts.ArtifactSet, found none");
    }
}
