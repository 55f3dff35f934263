package io.microkernel.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an inference endpoint: open to everyone unless {@code microkernel.api.protect-inference=true},
 * in which case it follows the same rule as {@link Mutating}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface InferenceEndpoint {
}
