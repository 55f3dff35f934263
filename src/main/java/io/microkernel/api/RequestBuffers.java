package io.microkernel.api;

import io.microkernel.tensor.BufferPool;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The pool the inference endpoints read request tensors into, and served models copy their outputs
 * into ({@code serving.ServingBeans}); the inference endpoints (OIP v2 over REST and gRPC, TF Serving's
 * {@code :predict} and {@code :classify}) give both back once they have answered ({@link RequestTensors}). Idle buffers are bounded to
 * {@value #MAX_IDLE_BYTES} bytes, and tensors over {@value #LARGEST_BUFFER} bytes allocate their
 * own buffer as without a pool, so the pool never holds more than a few requests' worth of memory.
 */
@Singleton
public class RequestBuffers {

    static final long MAX_IDLE_BYTES = 32L << 20;
    static final int LARGEST_BUFFER = 1 << 20;

    @Produces
    @Singleton
    BufferPool requestTensors() {
        return new BufferPool(MAX_IDLE_BYTES, LARGEST_BUFFER);
    }
}
