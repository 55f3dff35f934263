package io.microkernel.bench;

import ai.onnxruntime.OnnxTensor;
import java.util.Map;

/** Owns a set of input tensors so that one try-with-resources closes all of them. */
record TensorBatch(Map<String, OnnxTensor> tensors) implements AutoCloseable {

    @Override
    public void close() {
        tensors.values().forEach(OnnxTensor::close);
    }
}
