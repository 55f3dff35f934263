package io.microkernel.drift;

import io.microkernel.serving.Prediction;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.training.RoundRecord;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * The drift watch as the service runs it: served predictions of the active version go to the
 * {@link DriftWatch}; a baseline for a new active version is built on a background thread; the
 * trigger, when configured, is checked on request.
 *
 * <p>Thread-safe. {@link #close()} stops the background thread; safe to call twice.
 */
public final class Drift implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Drift.class);

    private final DriftWatch watch;
    private final DriftTrigger trigger;
    private final ExecutorService rebaser;
    private final AtomicInteger pending = new AtomicInteger(-1);

    /** A watch that is off: observes nothing, reports nothing. */
    public static Drift off() {
        return new Drift(null, null, null);
    }

    private Drift(DriftWatch watch, DriftTrigger trigger, ExecutorService rebaser) {
        this.watch = watch;
        this.trigger = trigger;
        this.rebaser = rebaser;
    }

    /**
     * @param trigger whether drift may start rounds
     */
    static Drift on(DriftWatch.Settings settings, DriftBaselines baselines,
            io.microkernel.training.RoundScheduler scheduler, boolean trigger, int minNewSamples) {
        ExecutorService rebaser = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "drift-baseline");
            thread.setDaemon(true);
            thread.setPriority(Thread.NORM_PRIORITY - 1);
            return thread;
        });
        Drift[] self = new Drift[1];
        DriftWatch watch = new DriftWatch(settings, version -> self[0].rebase(version, baselines));
        self[0] = new Drift(watch, trigger ? new DriftTrigger(watch, scheduler, minNewSamples) : null, rebaser);
        return self[0];
    }

    public boolean enabled() {
        return watch != null;
    }

    /** Counts a prediction of the active version. */
    public void served(List<NamedTensor> inputs, Prediction prediction) {
        if (watch != null) {
            watch.observe(inputs, prediction);
        }
    }

    public Optional<DriftReport> report() {
        return watch == null ? Optional.empty() : Optional.of(watch.report());
    }

    /** Starts a drift round when the trigger is on and its conditions hold. */
    public Optional<RoundRecord> check() {
        return trigger == null ? Optional.empty() : trigger.check();
    }

    private void rebase(int version, DriftBaselines baselines) {
        if (pending.getAndSet(version) == version) {
            return;
        }
        rebaser.execute(() -> {
            try {
                Integer current = watch.baselineVersion();
                if (current == null || current != version) {
                    watch.rebase(baselines.build(version));
                    LOG.infof("drift baseline for version %d: %s", version, watch.report().baselineRows() + " samples");
                }
            } catch (RuntimeException e) {
                LOG.warnf("cannot build the drift baseline of version %d: %s", version, e.getMessage());
                watch.rebase(Baseline.none(version, "no baseline for version " + version + ": " + e.getMessage()));
            } finally {
                pending.compareAndSet(version, -1);
            }
        });
    }

    @Override
    public void close() {
        if (rebaser != null) {
            rebaser.shutdownNow();
            try {
                rebaser.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
