package io.microkernel.serving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;

/**
 * One JSON value kept as compact UTF-8 text, for values that must be read again later. A
 * {@code TokenBuffer} keeps an object per number (a boxed value or its text), several times the
 * bytes the number took in the request; this keeps the bytes. Numbers are copied as written, so
 * a value rejected later is shown as the client wrote it.
 *
 * <p>Stateless and thread-safe.
 */
public final class JsonText {

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private JsonText() {
    }

    /** Copies the value at the parser's current token and leaves the parser on the value's last token. */
    public static byte[] copyValue(JsonParser p) throws IOException {
        try (ByteArrayBuilder bytes = new ByteArrayBuilder(); JsonGenerator out = FACTORY.createGenerator(bytes)) {
            int depth = 0;
            do {
                JsonToken token = p.currentToken();
                switch (token) {
                    case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> out.writeNumber(p.getTextCharacters(), p.getTextOffset(),
                            p.getTextLength());
                    case START_ARRAY, START_OBJECT -> {
                        depth++;
                        out.copyCurrentEvent(p);
                    }
                    case END_ARRAY, END_OBJECT -> {
                        depth--;
                        out.copyCurrentEvent(p);
                    }
                    default -> out.copyCurrentEvent(p);
                }
            } while (depth > 0 && p.nextToken() != null);
            out.flush();
            return bytes.toByteArray();
        }
    }

    /** A parser over text made by {@link #copyValue}, before its first token. */
    public static JsonParser parse(byte[] json) throws IOException {
        return FACTORY.createParser(json);
    }
}
