package io.microkernel.api;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ids for answers whose request sent none: UUID-shaped (version 4, IETF variant), made of 60 random
 * bits drawn once per instance and a counter. One secure random draw per process instead of one per
 * request: {@code UUID.randomUUID()} reads the system's entropy source under a lock every time,
 * which serialises concurrent requests. Unique within an instance for 2^62 ids, and across
 * instances (restarts, replicas) as 60 random bits make them.
 *
 * <p>Thread-safe.
 */
final class ResponseIds {

    /** The instance of this process. */
    static final ResponseIds PROCESS = new ResponseIds(new SecureRandom());

    private static final long VERSION_MASK = 0xffff_ffff_ffff_0fffL;
    private static final long VERSION_4 = 0x0000_0000_0000_4000L;
    private static final long VARIANT = 0x8000_0000_0000_0000L;
    private static final long COUNTER_BITS = 0x3fff_ffff_ffff_ffffL;

    private final long prefix;
    private final AtomicLong counter = new AtomicLong();

    ResponseIds(SecureRandom random) {
        this.prefix = random.nextLong() & VERSION_MASK | VERSION_4;
    }

    /** The next id, as {@code UUID.toString()} writes one. */
    String next() {
        return new UUID(prefix, VARIANT | counter.getAndIncrement() & COUNTER_BITS).toString();
    }
}
