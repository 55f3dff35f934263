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
 * thread's id. Elsewhere (no {@code /proc/thread-self}, no {@code renice}) it does nothing and says so
 * once in the log.
 *
 * <p>Thread-safe; each call acts on its caller's thread only.
 */
final class RoundThreadPriority {

    private static final Logger LOG = Logger.getLogger(RoundThreadPriority.class);
    private static final Path THREAD_SELF = Path.of("/proc/thread-self");

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
        try {
            if (!Files.exists(THREAD_SELF)) {
                LOG.debugf("no %s: the round thread keeps its scheduling priority", THREAD_SELF);
                return false;
            }
            String tid = THREAD_SELF.toRealPath().getFileName().toString();
            Process renice = new ProcessBuilder("renice", "-n", Integer.toString(target), "-p", tid)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!renice.waitFor(5, TimeUnit.SECONDS)) {
                renice.destroyForcibly();
                LOG.infof("renice did not answer within 5 s: the round thread keeps its scheduling priority");
                return false;
            }
            boolean done = renice.exitValue() == 0 && currentNice().orElse(Integer.MIN_VALUE) == target;
            if (!done) {
                LOG.infof("renice -n %d failed (exit %d): the round thread keeps its scheduling priority", target,
                        renice.exitValue());
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
        try {
            String stat = Files.readString(THREAD_SELF.resolve("stat"));
            // The command name (field 2) may hold spaces; the fields after it start past its closing parenthesis.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            return OptionalInt.of(Integer.parseInt(fields[16]));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }
}
