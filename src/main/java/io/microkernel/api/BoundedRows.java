package io.microkernel.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Reads an array of rows ({@code instances}, {@code samples}), each kept as tokens, but no more rows
 * than a request may carry: the rows past the limit are skipped unbuffered and only counted, so a
 * body of millions of tiny rows costs no more memory than the limit allows (a buffered row costs a
 * few hundred bytes however small it is).
 *
 * <p>Stateless and thread-safe, as Jackson requires of deserializers.
 */
abstract class BoundedRows extends StdDeserializer<List<TokenBuffer>> {

    private final String rows;
    private final String key;
    private final int limit;

    BoundedRows(String rows, String key, int defaultLimit) {
        super(List.class);
        this.rows = rows;
        this.key = key;
        this.limit = ConfigProvider.getConfig().getOptionalValue(key, Integer.class).orElse(defaultLimit);
    }

    @Override
    public List<TokenBuffer> deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new InputValidationException(InputProblem.MALFORMED,
                    "expected '" + rows + "' to be an array, found " + p.currentToken().asString());
        }
        List<TokenBuffer> read = new ArrayList<>();
        long count = 0;
        for (JsonToken token = p.nextToken(); token != JsonToken.END_ARRAY; token = p.nextToken()) {
            if (count++ < limit) {
                read.add(token == JsonToken.VALUE_NULL ? null : ctxt.bufferAsCopyOfValue(p));
            } else {
                p.skipChildren();
            }
        }
        if (count > limit) {
            throw new InputValidationException(InputProblem.BATCH_TOO_LARGE,
                    "expected at most " + limit + " " + rows + " (" + key + "), found " + count);
        }
        return read;
    }

    /** TF Serving's {@code instances}: at most {@code microkernel.serving.max-batch}. */
    static final class Instances extends BoundedRows {
        Instances() {
            super("instances", "microkernel.serving.max-batch", 256);
        }
    }

    /** Labelled samples: at most the whole buffer, {@code microkernel.training.buffer.max-samples}. */
    static final class Samples extends BoundedRows {
        Samples() {
            super("samples", "microkernel.training.buffer.max-samples", 100_000);
        }
    }
}
