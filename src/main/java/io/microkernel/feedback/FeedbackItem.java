package io.microkernel.feedback;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One label for an earlier prediction.
 *
 * @param id    the prediction id the inference response carried
 * @param row   the batch row the label is for; may be null when the request had one row
 * @param label a class name, class index or target, as {@code /samples} takes them
 */
public record FeedbackItem(String id, Integer row, JsonNode label) {
}
