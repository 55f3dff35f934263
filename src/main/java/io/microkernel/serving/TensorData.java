package io.microkernel.serving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * The {@code data} of an Open Inference Protocol input as the request reader left it: usually
 * already a tensor, read straight from the request stream because the input's datatype and shape
 * came first; otherwise the buffered tokens, read once the type and shape are known. A problem
 * found while reading is kept and thrown by {@link #read}, after the checks of name, type and
 * shape, so a request hears about those first.
 *
 * <p>Immutable; {@link #read} may be called more than once and from any thread.
 */
public interface TensorData {

    /**
     * The elements as a tensor of {@code dtype} and {@code shape}.
     *
     * @throws InputValidationException when the data does not fit
     */
    Tensor read(DType dtype, long[] shape, String what);

    /** Data read already, as a tensor of the datatype and shape the request declared. */
    static TensorData of(Tensor tensor) {
        return (dtype, shape, what) -> {
            if (tensor.dtype() != dtype || !Arrays.equals(tensor.shape(), shape)) {
                throw new IllegalStateException(what + ": read as " + tensor + ", asked for " + dtype + Arrays.toString(shape));
            }
            return tensor;
        };
    }

    /** Data whose reading failed; {@link #read} throws {@code problem}. */
    static TensorData failed(InputValidationException problem) {
        return (dtype, shape, what) -> {
            throw new InputValidationException(problem.problem(), problem.getMessage());
        };
    }

    /**
     * Data kept as compact JSON text because the request gave its datatype or shape only after it:
     * the value at the parser's current token is copied with every number as written, so it costs
     * about the bytes it took in the request (tokens would cost several times that), and the
     * parser is left on the value's last token.
     */
    static TensorData buffered(JsonParser p) throws IOException {
        byte[] json = JsonText.copyValue(p);
        return (dtype, shape, what) -> {
            try (JsonParser replay = JsonText.parse(json)) {
                replay.nextToken();
                return JsonTensorReader.readFlat(replay, dtype, shape, what);
            } catch (IOException e) {
                throw new UncheckedIOException("replaying buffered JSON failed", e);
            }
        };
    }

    /** Data kept as tokens because the request gave its datatype or shape only after it. */
    static TensorData buffered(TokenBuffer tokens) {
        return (dtype, shape, what) -> {
            try (JsonParser p = tokens.asParser()) {
                p.nextToken();
                return JsonTensorReader.readFlat(p, dtype, shape, what);
            } catch (IOException e) {
                throw new UncheckedIOException("replaying buffered tokens failed", e);
            }
        };
    }
}
