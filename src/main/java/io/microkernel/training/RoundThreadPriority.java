package io.microkernel.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Lowers the operating-system scheduling priority (the Linux nice value) of the calling thread, so a
 * training round's thread, and the ONNX Runtime pool threads its sessions create (they inherit it),
 * give the cores to serving whenever serving wants them. Java's own thread priorities do not reach the
 * Linux scheduler unless the JVM runs with root-only flags, so this asks {@code renice} for the
 * thread's id, or {@code chrt} for the {@code SCHED_IDLE} policy. Elsewhere (no {@code /proc/thread-self},
 * no {@code renice} or {@code chrt}) it does nothing and says so in the log.
 *
 * <p>Thread-safe; each call acts on its caller's thread only.
 */
final class RoundThreadPriority {

    private static final Logger LOG = Logger.getLogger(RoundThreadPriority.class);
    private static final Path THREAD_SELF = Path.of("/proc/thread-self");
    /** The Linux scheduling policy number of {@code SCHED_IDLE}. */
    static final int SCHED_IDLE = 5;

    private RoundThreadPriority() {
    }

    /**
     * Sets the calling thread's nice value to {@code nice} (1 to 19; 0 or less leaves it as it is).
     *
     * @return whether the thread now runs at that nice value
     */
    static boolean lowerCurrentThread(int nice) {
        if (nice <= 0) {
            return false;
        }
        int target = Math.min(19, nice);
        return runOnCurrentThread("renice -n " + target, tid -> new String[] {"renice", "-n", Integer.toString(target), "-p", tid},
                () -> currentNice().orElse(Integer.MIN_VALUE) == target);
    }

    /**
     * Puts the calling thread under Linux's {@code SCHED_IDLE} policy ({@code chrt --idle}): it runs
     * only when no other thread wants its core, and threads it starts afterwards inherit that.
     *
     * @return whether the thread now runs under {@code SCHED_IDLE}
     */
    static boolean idleCurrentThread() {
        return runOnCurrentThread("chrt --idle", tid -> new String[] {"chrt", "--idle", "-p", "0", tid},
                () -> currentPolicy().orElse(-1) == SCHED_IDLE);
    }

    /** Runs the command {@code command} builds for the calling thread's id; true when it exits 0 and {@code took} holds. */
    private static boolean runOnCurrentThread(String what, java.util.function.Function<String, String[]> command,
            java.util.function.BooleanSupplier took) {
        try {
            if (!Files.exists(THREAD_SELF)) {
                LOG.debugf("no %s: the round thread keeps its scheduling priority", THREAD_SELF);
                return false;
            }
            String tid = THREAD_SELF.toRealPath().getFileName().toString();
            Process process = new ProcessBuilder(command.apply(tid))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                LOG.infof("%s did not answer within 5 s: the round thread keeps its scheduling priority", what);
                return false;
            }
            boolean done = process.exitValue() == 0 && took.getAsBoolean();
            if (!done) {
                LOG.infof("%s failed (exit %d): the round thread keeps its scheduling priority", what, process.exitValue());
            }
            return done;
        } catch (IOException e) {
            LOG.infof("cannot lower the round thread's scheduling priority: %s", e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The calling thread's nice value (field 19 of {@code /proc/thread-self/stat}); empty where unknown. */
    static OptionalInt currentNice() {
        return statField(19);
    }

    /** The calling thread's scheduling policy (field 41 of {@code /proc/thread-self/stat}; 5 is {@code SCHED_IDLE}). */
    static OptionalInt currentPolicy() {
        return statField(41);
    }

    /** Field {@code number} (counted from 1, as proc(5) does) of {@code /proc/thread-self/stat}; empty where unknown. */
    private static OptionalInt statField(int number) {
        try {
            String stat = Files.readString(THREAD_SELF.resolve("stat"));
            // The command name (field 2) may hold spaces; the fields after it start past its closing parenthesis.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            return OptionalInt.of(Integer.parseInt(fields[number - 3]));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }
}
