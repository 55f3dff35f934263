package io.microkernel.training;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * The gate's verdict on a candidate, with the numbers behind it.
 *
 * @param promote  whether the candidate may replace the active version
 * @param reason   one readable sentence with every rule's numbers
 * @param failures the rules the candidate broke, each with its numbers; empty when promoted
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record PromotionDecision(boolean promote, String reason, List<String> failures) {

    public PromotionDecision {
        failures = List.copyOf(failures);
    }
}
