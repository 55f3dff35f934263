package io.microkernel.training;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The gate's verdict on a candidate, with the numbers behind it.
 *
 * @param promote  whether the candidate may replace the active version
 * @param reason   one readable sentence with every rule's numbers
 * @param failures the rules the candidate broke, each with its numbers; empty when promoted
 * @param reference both versions on the reference set, when the model has one (null otherwise)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PromotionDecision(boolean promote, String reason, List<String> failures, ReferenceCheck reference) {

    public PromotionDecision {
        failures = List.copyOf(failures);
    }

    public PromotionDecision(boolean promote, String reason, List<String> failures) {
        this(promote, reason, failures, null);
    }
}
