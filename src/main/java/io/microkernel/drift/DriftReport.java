package io.microkernel.drift;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Map;

/**
 * The drift of the served traffic against the active version's training samples, as
 * {@code GET /v1/models/{m}} shows it.
 *
 * @param psi             the largest of the indexes below: the drift the threshold is compared with
 * @param threshold       {@code microkernel.drift.threshold}
 * @param drifted         whether {@code psi} passed the threshold (with enough served rows)
 * @param servedRows      rows in the served window
 * @param baselineRows    training samples the baseline was built from
 * @param baselineVersion the version the baseline describes
 * @param inputs          per input, the index of its row-mean distribution
 * @param predictedClass  the index of the predicted-class histogram (classifiers)
 * @param confidence      the index of the confidence histogram (classifiers)
 * @param servedMean      per input, the mean of the served rows' means
 * @param baselineMean    per input, the mean of the baseline rows' means
 * @param note            why there is no number yet, when there is none
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DriftReport(Double psi, double threshold, boolean drifted, long servedRows, long baselineRows,
        Integer baselineVersion, Map<String, Double> inputs, Double predictedClass, Double confidence,
        Map<String, Double> servedMean, Map<String, Double> baselineMean, String note) {
}
