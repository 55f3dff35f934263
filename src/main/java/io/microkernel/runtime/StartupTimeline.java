package io.microkernel.runtime;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Where one start-up's time goes: the phases of the server's start (the JVM up to {@code main}, the
 * command line, Quarkus's boot, the native library, the ONNX Runtime environment, the model store, the
 * served model), logged in one INFO line once the model serves. Recording logs nothing, so the phases
 * before Quarkus has set up logging can be recorded too.
 *
 * <p>Times are wall-clock milliseconds; "since the JVM started" counts from the process's start as
 * the operating system records it (10 ms resolution on Linux). One timeline per process, written by
 * whichever thread runs a phase; thread-safe.
 */
public final class StartupTimeline {

    private static final List<String> PHASES = new ArrayList<>();
    private static final long PROCESS_START_MS = ProcessHandle.current().info().startInstant()
            .map(Instant::toEpochMilli).orElse(System.currentTimeMillis());
    private static volatile long mark = System.nanoTime();

    private StartupTimeline() {
    }

    /** Milliseconds since this process started. */
    public static long sinceJvmStart() {
        return System.currentTimeMillis() - PROCESS_START_MS;
    }

    /** Records that the JVM reached {@code main}; the next {@link #sinceMark} phase counts from now. */
    public static void main() {
        record("JVM start to main", sinceJvmStart());
        mark = System.nanoTime();
    }

    /** Records {@code name} as the time since the last mark, and marks now. */
    public static void sinceMark(String name) {
        long now = System.nanoTime();
        record(name, TimeUnit.NANOSECONDS.toMillis(now - mark));
        mark = now;
    }

    /** Records {@code name} as the time since {@code startedNanos} ({@link System#nanoTime()}), and marks now. */
    public static long since(String name, long startedNanos) {
        long now = System.nanoTime();
        long ms = TimeUnit.NANOSECONDS.toMillis(now - startedNanos);
        record(name, ms);
        mark = now;
        return ms;
    }

    /** The phases recorded so far, in order, e.g. {@code "native library 12 ms, ..."}. */
    public static synchronized String phases() {
        return String.join(", ", PHASES);
    }

    /** Logs the phases so far in one line, with the time since the JVM started, and forgets them. */
    public static synchronized void logSummary(String what) {
        Logger.getLogger(StartupTimeline.class).infof("%s %d ms after the JVM started: %s", what, sinceJvmStart(), phases());
        PHASES.clear();
    }

    private static synchronized void record(String name, long ms) {
        PHASES.add(name + " " + ms + " ms");
    }
}
