package io.microkernel.api;

import ai.onnx.proto.OnnxMl.ModelProto;
import io.microkernel.testing.TinyModels;

/**
 * {@link TinyClassifierResource} with the two-input classifier ({@code left [-1,2]},
 * {@code right [-1,2]}; classes a, b, c) in place of the one-input one.
 */
public class TwoInputClassifierResource extends TinyClassifierResource {

    @Override
    protected ModelProto model() {
        return TinyModels.twoInputClassifier();
    }
}
