package io.microkernel.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an endpoint that changes the server's state (activate, samples, rounds): accepted from
 * loopback, or with {@code Authorization: Bearer <microkernel.api.token>}. Enforced by {@link AccessFilter}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface Mutating {
}
