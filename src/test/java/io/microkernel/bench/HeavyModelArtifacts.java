package io.microkernel.bench;

import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.artifacts.LossKind;
import io.microkernel.runtime.OrtRuntime;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Turns {@link HeavyBackboneModel} into a standard artifact set in which only the head trains. */
final class HeavyModelArtifacts {

    private HeavyModelArtifacts() {
    }

    static void build(Path folder) throws IOException {
        ServiceBenchmark.deleteRecursively(folder);
        ArtifactBuilder.fromModel(HeavyBackboneModel.build(42))
                .trainablePattern(HeavyBackboneModel.TRAINABLE)
                .loss(LossKind.CROSS_ENTROPY)
                .classNames(HeavyBackboneModel.CLASS_NAMES)
                .build(OrtRuntime.start(Optional.empty()).environment(), folder);
    }
}
