package io.microkernel.serving;

import java.util.List;

/**
 * One input tensor as an Open Inference Protocol request states it, before it is checked against
 * the model. Immutable.
 *
 * @param name     the input's name
 * @param shape    the declared shape, batch first
 * @param datatype the declared OIP datatype ({@code FP32}, {@code INT64}...)
 * @param data     the elements, read or ready to be read; {@code null} when the request had none
 */
public record TensorInput(String name, List<Long> shape, String datatype, TensorData data) {
}
