package io.microkernel.api;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.serving.ServedModel;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.NotFoundException;
import java.util.OptionalInt;

/** Checks the model name and version number in a path before anything else looks at the request. */
@ApplicationScoped
public class ModelPaths {

    @Inject
    ServedModel served;

    /** The name of the one model this process serves. */
    public String servedName() {
        return served.name();
    }

    /** @throws ProblemException (unknown-model) when {@code name} is not the served model */
    public ServedModel model(String name) {
        if (!served.name().equals(name)) {
            throw new ProblemException(ProblemType.UNKNOWN_MODEL,
                    "expected model '" + served.name() + "', found '" + name + "'");
        }
        return served;
    }

    /** @throws NotFoundException when {@code text} is not a version number */
    public static int version(String text) {
        if (text == null || !text.matches("[1-9][0-9]{0,8}")) {
            throw new NotFoundException("expected a version number such as 1, found '" + text + "'");
        }
        return Integer.parseInt(text);
    }

    /**
     * The part of a path segment before {@code :verb} ({@code default:predict} gives {@code default}).
     *
     * @throws NotFoundException when the segment does not end with the verb
     */
    public static String beforeVerb(String segment, String verb) {
        String suffix = ":" + verb;
        if (segment == null || !segment.endsWith(suffix) || segment.length() == suffix.length()) {
            throw new NotFoundException("expected a path ending in '" + suffix + "', found '" + segment + "'");
        }
        return segment.substring(0, segment.length() - suffix.length());
    }

    /** A path segment split at its verb: {@code default:predict} is target {@code default}, verb {@code predict}. */
    public record VerbPath(String target, String verb) {
    }

    /**
     * Splits {@code segment} at the last {@code :} into its target and one of {@code verbs}.
     *
     * @throws NotFoundException when the segment does not end with one of the verbs
     */
    public static VerbPath verb(String segment, String... verbs) {
        for (String verb : verbs) {
            String suffix = ":" + verb;
            if (segment != null && segment.endsWith(suffix) && segment.length() > suffix.length()) {
                return new VerbPath(segment.substring(0, segment.length() - suffix.length()), verb);
            }
        }
        throw new NotFoundException("expected a path ending in one of " + java.util.Arrays.stream(verbs).map(v -> ":" + v).toList()
                + ", found '" + segment + "'");
    }

    public static OptionalInt optionalVersion(String text) {
        return OptionalInt.of(version(text));
    }
}
