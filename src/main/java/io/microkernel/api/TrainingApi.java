package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.training.RoundRecord;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request and response bodies of the samples and rounds endpoints. */
public final class TrainingApi {

    private TrainingApi() {
    }

    /**
     * {@code {"samples":[{"input": <one instance>, "label": ...}]}}; a multi-input model takes
     * {@code "inputs": {"name": <value>, ...}} instead of {@code input}. Each sample is kept as
     * tokens and streamed into tensors once the model's inputs are known.
     */
    public record SamplesRequest(
            @JsonDeserialize(using = BoundedRows.Samples.class) @Schema(type = SchemaType.ARRAY) List<TokenBuffer> samples) {
    }

    /** The buffer as {@code GET /v1/models/{m}/samples} reports it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record BufferStats(
            String model,
            long total,
            long train,
            long holdout,
            long capacity,
            @JsonProperty("new_since_last_promotion") long fresh,
            @JsonProperty("per_label") Map<String, Long> perLabel) {
    }

    /** The answer to an accepted batch of samples. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SamplesAccepted(
            int accepted,
            List<Long> ids,
            BufferStats buffer,
            @JsonProperty("round_started") Long roundStarted) {
    }

    /**
     * Optional overrides of a round; absent fields keep the configuration. Counts are read as any
     * JSON number so that {@code 1.5} is refused rather than truncated ({@code RoundsResource}).
     */
    public record RoundRequest(
            Number epochs,
            @JsonProperty("batch_size") Number batchSize,
            @JsonProperty("learning_rate") Double learningRate,
            Number seed) {
    }

    /** One page of the round history, oldest first; {@code next} is the {@code after} of the next page. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RoundList(String model, Long running, List<RoundRecord> rounds, Long next) {
    }
}
