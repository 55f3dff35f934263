package io.microkernel.serving;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One input tensor as an Open Inference Protocol request states it, before validation.
 *
 * @param name     the input's name
 * @param shape    the declared shape, batch first
 * @param datatype the declared OIP datatype ({@code FP32}, {@code INT64}...)
 * @param data     the elements in row-major order, flat or nested
 */
public record TensorInput(String name, List<Long> shape, String datatype, JsonNode data) {
}
