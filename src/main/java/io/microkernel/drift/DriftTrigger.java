package io.microkernel.drift;

import io.microkernel.training.RoundOverrides;
import io.microkernel.training.RoundRecord;
import io.microkernel.training.RoundScheduler;
import io.microkernel.training.RoundConflictException;
import io.microkernel.training.SampleJournal;
import java.util.Locale;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Starts a round when the traffic drifted past the threshold and at least {@code minNewSamples}
 * labelled samples arrived since the last promoted round (and since the last drift round, so a
 * rejected one is not repeated on the same samples). The round's trigger reads
 * {@code drift psi=0.4123 threshold=0.2500}.
 *
 * <p>Thread-safe.
 */
public final class DriftTrigger {

    private static final Logger LOG = Logger.getLogger(DriftTrigger.class);

    private final DriftWatch watch;
    private final RoundScheduler scheduler;
    private final int minNewSamples;
    private long lastTriggeredThrough;

    public DriftTrigger(DriftWatch watch, RoundScheduler scheduler, int minNewSamples) {
        this.watch = watch;
        this.scheduler = scheduler;
        this.minNewSamples = minNewSamples;
    }

    /** Checks the conditions and starts a round when they hold; returns it if it did. */
    public synchronized Optional<RoundRecord> check() {
        DriftReport report = watch.report();
        if (!report.drifted() || scheduler.current().isPresent()) {
            return Optional.empty();
        }
        SampleJournal journal = scheduler.journal();
        long since = Math.max(journal.consumedThrough(), lastTriggeredThrough);
        long fresh = journal.countNewerThan(since);
        if (fresh < minNewSamples) {
            LOG.debugf("drift %.4f over %.4f, but %d new labelled samples of the %d a round needs", report.psi(),
                    report.threshold(), fresh, minNewSamples);
            return Optional.empty();
        }
        String trigger = String.format(Locale.ROOT, "drift psi=%.4f threshold=%.4f", report.psi(), report.threshold());
        try {
            RoundRecord round = scheduler.start(trigger, RoundOverrides.NONE);
            lastTriggeredThrough = journal.snapshot().lastId();
            LOG.infof("%s: started round %d on %d new labelled samples", trigger, round.id(), fresh);
            return Optional.of(round);
        } catch (RoundConflictException e) {
            LOG.debugf("no drift round: %s", e.getMessage());
            return Optional.empty();
        } catch (RuntimeException e) {
            LOG.warnf("no drift round: %s", e.getMessage());
            return Optional.empty();
        }
    }
}
