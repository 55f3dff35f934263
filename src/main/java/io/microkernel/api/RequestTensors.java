package io.microkernel.api;

import io.microkernel.serving.ModelSignature;
import io.microkernel.serving.Prediction;
import io.microkernel.tensor.NamedTensor;
import java.util.List;
import java.util.function.Function;

/**
 * The tensors one inference request owns: its inputs, read into buffers borrowed from the pool
 * ({@link RequestBuffers}), and its prediction's outputs, which served models copy into the same
 * pool. Once the answer is built into bytes (or values) of its own, ONNX Runtime (whose tensors over
 * them closed when the run ended) and the batcher (which copies them into its batch before the run)
 * are done with them, and they go back to the pool, unless the prediction log keeps them for its
 * writer ({@link ServedPredictions#keepsInputs()}). A request that fails leaves them to the garbage collector.
 *
 * <p>Every inference endpoint uses it the same way: {@link #translatedBy} wraps the request's
 * translation given to {@link ServedPredictions#predict}, and {@link #recycleAfter} comes after the
 * answer is built, never before (a recycled tensor refuses reads).
 *
 * <p>Translated on the thread that validates the request, recycled on the one that answers it,
 * after the prediction completed; the completion orders the two.
 */
public final class RequestTensors {

    private final ServedPredictions predictions;
    private List<NamedTensor> translated;

    public RequestTensors(ServedPredictions predictions) {
        this.predictions = predictions;
    }

    /** {@code translate}, remembering the inputs it gives as this request's. */
    public Function<ModelSignature, List<NamedTensor>> translatedBy(Function<ModelSignature, List<NamedTensor>> translate) {
        return signature -> {
            translated = translate.apply(signature);
            return translated;
        };
    }

    /**
     * Gives back the inputs' and {@code prediction}'s output buffers once {@code answered} holds the
     * answer without reading them any more.
     *
     * @return {@code answered}
     */
    public <T> T recycleAfter(Prediction prediction, T answered) {
        if (!predictions.keepsInputs()) {
            for (NamedTensor input : translated == null ? List.<NamedTensor>of() : translated) {
                input.tensor().recycle();
            }
            for (NamedTensor output : prediction.outputs()) {
                output.tensor().recycle();
            }
        }
        return answered;
    }
}
