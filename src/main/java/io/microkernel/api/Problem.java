package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.microkernel.problem.ProblemType;

/**
 * An RFC 9457 problem document, sent as {@code application/problem+json}.
 *
 * @param type   a URI naming the kind of problem ({@code urn:microkernel:problem:wrong-shape})
 * @param title  a short summary of the kind
 * @param status the HTTP status
 * @param detail what was expected and what was found
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail) {

    public static final String MEDIA_TYPE = "application/problem+json";

    static Problem of(String slug, String title, int status, String detail) {
        return new Problem(ProblemType.URN_PREFIX + slug, title, status, detail);
    }

    static Problem of(ProblemType type, String detail) {
        return new Problem(type.uri(), type.title(), type.status(), detail);
    }
}
