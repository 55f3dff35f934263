package io.microkernel.problem;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A failure of a known {@link ProblemType}, with a detail that says what was expected and what was
 * found, the cause when there is one, and the response headers an HTTP answer needs (for example
 * {@code Retry-After}). The {@code api} package maps every one of these, subclasses included, to an
 * {@code application/problem+json} answer in one place.
 *
 * <p>Throw it directly with a type; subclass it only where code must catch one kind by type or read
 * extra fields from it. Immutable.
 */
public class ProblemException extends RuntimeException {

    private final ProblemType type;
    private final Map<String, String> headers;

    public ProblemException(ProblemType type, String detail) {
        this(type, detail, null, Map.of());
    }

    public ProblemException(ProblemType type, String detail, Throwable cause) {
        this(type, detail, cause, Map.of());
    }

    /** @param headers response headers an answer carries, in order (name to value) */
    public ProblemException(ProblemType type, String detail, Throwable cause, Map<String, String> headers) {
        super(detail, cause);
        this.type = Objects.requireNonNull(type, "type");
        this.headers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    public ProblemType type() {
        return type;
    }

    /** The HTTP status, from the type. */
    public int status() {
        return type.status();
    }

    /** What was expected and what was found; the same as {@link #getMessage()}. */
    public String detail() {
        return getMessage();
    }

    /** Response headers an answer to this problem carries; empty for most. */
    public Map<String, String> headers() {
        return headers;
    }
}
