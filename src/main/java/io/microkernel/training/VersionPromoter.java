package io.microkernel.training;

import io.microkernel.store.Lineage;
import io.microkernel.store.ModelVersion;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How a round's accepted candidate becomes the served version: in single-node mode
 * {@code ServedModel.promoteOver}; in fleet mode also uploaded and made the fleet's active version.
 */
@FunctionalInterface
public interface VersionPromoter {

    /**
     * Promotes the candidate while {@code comparedWith} is still the active version.
     *
     * @param throughId the newest sample id the round learned from
     * @return the version now served, or empty when another version became active since
     */
    Optional<ModelVersion> promoteOver(int comparedWith, Path candidateDir, Lineage lineage, long throughId);
}
