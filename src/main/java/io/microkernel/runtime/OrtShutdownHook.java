package io.microkernel.runtime;

import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Takes ONNX Runtime Java's own JVM shutdown hook away.
 *
 * <p>{@code OrtEnvironment}'s constructor registers a hook thread ({@code OrtEnvironment$OrtEnvCloser})
 * that releases the native environment when the JVM exits. JVM shutdown hooks run in parallel, so on
 * SIGTERM it ran beside Quarkus's own shutdown, which was still cancelling a training round and
 * draining inference requests: the round's thread then used a released logger and the JVM crashed
 * (SIGSEGV in {@code LoggingManager::Log}) or the round failed with "Attempt to use DefaultLogger but
 * none has been registered". Without the hook the environment lives until the process ends; the
 * application stops its rounds and sessions first, and the operating system reclaims the rest.
 *
 * <p>The JDK keeps hooks in {@code java.lang.ApplicationShutdownHooks}; reading it needs
 * {@code --add-opens java.base/java.lang=ALL-UNNAMED}, which the packaged jar's manifest carries
 * ({@code Add-Opens}). Where it is missing the hook stays and a warning says so.
 */
final class OrtShutdownHook {

    private static final Logger LOG = Logger.getLogger(OrtShutdownHook.class);
    static final String CLOSER = "ai.onnxruntime.OrtEnvironment$OrtEnvCloser";

    private OrtShutdownHook() {
    }

    /** Removes every registered ORT environment closer; returns how many it removed. */
    static int remove() {
        try {
            Class<?> hooksClass = Class.forName("java.lang.ApplicationShutdownHooks");
            Field hooksField = hooksClass.getDeclaredField("hooks");
            hooksField.setAccessible(true);
            List<Thread> registered;
            synchronized (hooksClass) {
                Map<?, ?> hooks = (Map<?, ?>) hooksField.get(null);
                if (hooks == null) {
                    // The JVM is already shutting down: hooks run now, nothing can be removed.
                    return 0;
                }
                registered = hooks.keySet().stream().map(Thread.class::cast).toList();
            }
            int removed = 0;
            for (Thread hook : registered) {
                Object runnable = task(hook);
                if (runnable != null && CLOSER.equals(runnable.getClass().getName())
                        && Runtime.getRuntime().removeShutdownHook(hook)) {
                    removed++;
                }
            }
            return removed;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warnf("cannot remove ONNX Runtime's shutdown hook (%s); a SIGTERM during a training round may crash"
                    + " the JVM; remedy: run with --add-opens java.base/java.lang=ALL-UNNAMED", e.toString());
            return 0;
        }
    }

    /** Whether an ORT environment closer is registered as a shutdown hook now. */
    static boolean registered() throws ReflectiveOperationException {
        Class<?> hooksClass = Class.forName("java.lang.ApplicationShutdownHooks");
        Field hooksField = hooksClass.getDeclaredField("hooks");
        hooksField.setAccessible(true);
        synchronized (hooksClass) {
            for (Object hook : ((Map<?, ?>) hooksField.get(null)).keySet()) {
                Object runnable = task((Thread) hook);
                if (runnable != null && CLOSER.equals(runnable.getClass().getName())) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The {@code Runnable} a hook thread runs: {@code Thread.target} up to JDK 20, {@code Thread.holder.task}
     * from JDK 21 on (the fast path's JDK 25 among them).
     */
    static Object task(Thread thread) throws ReflectiveOperationException {
        try {
            Field target = Thread.class.getDeclaredField("target");
            target.setAccessible(true);
            return target.get(thread);
        } catch (NoSuchFieldException e) {
            Field holderField = Thread.class.getDeclaredField("holder");
            holderField.setAccessible(true);
            Object holder = holderField.get(thread);
            Field task = holder.getClass().getDeclaredField("task");
            task.setAccessible(true);
            return task.get(holder);
        }
    }
}
