package io.microkernel.config;

import io.microkernel.problem.ConfigurationException;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import org.jboss.logging.Logger;

/**
 * Checks every {@code microkernel.*} value before anything is built from it. A bad value is a
 * configuration error, not a request's fault: each is logged as one line naming the property, what
 * was expected and what was found, and the process exits with status 1. The start-up steps that
 * follow ({@code ModelStartup}, the training beans) ask {@link #passed()} and do nothing when it
 * failed, so the log holds only the configuration errors.
 */
@ApplicationScoped
public class ConfigurationCheck {

    private static final Logger LOG = Logger.getLogger(ConfigurationCheck.class);
    /** A model name becomes a folder name, so it must be a plain one. */
    public static final String MODEL_NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}";

    @Inject
    MicrokernelConfig config;

    private volatile boolean passed = true;

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) {
        List<ConfigurationException> problems = problems(config);
        if (!problems.isEmpty()) {
            passed = false;
            problems.forEach(e -> LOG.error("invalid configuration: " + e.getMessage()));
            Quarkus.asyncExit(1);
        }
    }

    /** False when a value was out of range; the process is then exiting. */
    public boolean passed() {
        return passed;
    }

    /** Every out-of-range value, in property order; empty when the configuration is usable. */
    public static List<ConfigurationException> problems(MicrokernelConfig config) {
        List<ConfigurationException> problems = new ArrayList<>();
        Checks checks = new Checks(problems);
        String name = config.model().name();
        checks.require(name.matches(MODEL_NAME_PATTERN), "microkernel.model.name",
                "letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit)", "'" + name + "'");
        String device = config.device().trim().toLowerCase(Locale.ROOT);
        checks.require(device.equals("cpu") || device.equals("cuda"), "microkernel.device", "cpu or cuda",
                "'" + config.device() + "'");
        checks.atLeast("microkernel.device-id", config.deviceId(), 0);
        MicrokernelConfig.Serving serving = config.serving();
        checks.atLeast("microkernel.serving.intra-op-threads", serving.intraOpThreads(), 1);
        checks.atLeast("microkernel.serving.inter-op-threads", serving.interOpThreads(), 1);
        checks.atLeast("microkernel.serving.max-batch", serving.maxBatch(), 1);
        MicrokernelConfig.Serving.Batching batching = serving.batching();
        checks.atLeast("microkernel.serving.batching.max-rows", batching.maxRows(), 1);
        checks.atLeast("microkernel.serving.batching.concurrent-runs", batching.concurrentRuns(), 0);
        checks.require(!batching.maxQueueDelay().isNegative(), "microkernel.serving.batching.max-queue-delay",
                "a duration of 0 or more", batching.maxQueueDelay());
        checks.atLeast("microkernel.serving.inline.max-run-micros", serving.inline().maxRunMicros(), 0);
        checks.atLeast("microkernel.store.retain", config.store().retain(), 1);
        training(config.training(), checks);
        closingTheLoop(config, checks);
        MicrokernelConfig.Fleet fleet = config.fleet();
        checks.require(fleet.role().equals("trainer-eligible") || fleet.role().equals("serve-only"),
                "microkernel.fleet.role", "trainer-eligible or serve-only", "'" + fleet.role() + "'");
        checks.require(fleet.leaseTtl().toMillis() >= 1000, "microkernel.fleet.lease-ttl", "at least 1s",
                fleet.leaseTtl());
        return problems;
    }

    /** The prediction log, the reference guard and the drift watch (README, "Closing the loop"). */
    private static void closingTheLoop(MicrokernelConfig config, Checks checks) {
        MicrokernelConfig.Feedback feedback = config.feedback();
        checks.require(feedback.retention().compareTo(Duration.ZERO) > 0, "microkernel.feedback.retention",
                "a duration above 0", feedback.retention());
        checks.require(feedback.samplingRate() > 0 && feedback.samplingRate() <= 1, "microkernel.feedback.sampling-rate",
                "a share in (0, 1]", feedback.samplingRate());
        checks.atLeast("microkernel.feedback.max-entries", feedback.maxEntries(), 1);
        double maxDrop = config.training().reference().maxDrop();
        checks.require(maxDrop >= 0 && Double.isFinite(maxDrop), "microkernel.training.reference.max-drop",
                "a finite number of at least 0", maxDrop);
        MicrokernelConfig.Drift drift = config.drift();
        checks.atLeast("microkernel.drift.window", drift.window(), 1);
        checks.atLeast("microkernel.drift.min-rows", drift.minRows(), 1);
        checks.require(drift.threshold() > 0 && Double.isFinite(drift.threshold()), "microkernel.drift.threshold",
                "a finite number above 0", drift.threshold());
        checks.atLeast("microkernel.drift.min-new-samples", drift.minNewSamples(), 1);
        checks.require(drift.checkInterval().compareTo(Duration.ZERO) > 0, "microkernel.drift.check-interval",
                "a duration above 0", drift.checkInterval());
    }

    private static void training(MicrokernelConfig.Training training, Checks checks) {
        String p = "microkernel.training.";
        checks.atLeast(p + "threads", training.threads(), 1);
        checks.require(training.epochs() >= 1 && training.epochs() <= 10_000, p + "epochs", "a number in [1, 10000]",
                training.epochs());
        checks.require(training.batchSize() >= 1 && training.batchSize() <= 65_536, p + "batch-size",
                "a number in [1, 65536]", training.batchSize());
        checks.require(training.learningRate() > 0 && Double.isFinite(training.learningRate()), p + "learning-rate",
                "a finite number above 0", training.learningRate());
        checks.require(training.learningRateDecay() > 0 && training.learningRateDecay() <= 1, p + "learning-rate-decay",
                "a number in (0, 1]", training.learningRateDecay());
        checks.fraction(p + "replay-fraction", training.replayFraction());
        checks.fraction(p + "holdout-fraction", training.holdoutFraction());
        checks.atLeast(p + "min-new-samples", training.minNewSamples(), 0);
        training.interval().ifPresent(interval -> checks.require(interval.compareTo(Duration.ZERO) > 0,
                p + "interval", "a duration above 0 (or unset)", interval));
        checks.atLeast(p + "buffer.max-samples", training.buffer().maxSamples(), 1);
        checks.require(!training.buffer().retryAfter().isNegative(), p + "buffer.retry-after", "a duration of at least 0",
                training.buffer().retryAfter());
        checks.require(training.gate().maxRegression() >= 0, p + "gate.max-regression", "at least 0",
                training.gate().maxRegression());
        OptionalDouble minImprovement = training.gate().minImprovement();
        minImprovement.ifPresent(v -> checks.require(v >= 0, p + "gate.min-improvement", "at least 0", v));
        checks.require(training.gate().maxClassRecallDrop() >= 0, p + "gate.max-class-recall-drop", "at least 0",
                training.gate().maxClassRecallDrop());
        Duration yieldMaxWait = training.roundPriority().yieldMaxWait();
        checks.require(yieldMaxWait.compareTo(Duration.ZERO) > 0 && yieldMaxWait.compareTo(Duration.ofSeconds(1)) <= 0,
                p + "round-priority.yield-max-wait", "a duration above 0 and at most 1s", yieldMaxWait);
    }

    private record Checks(List<ConfigurationException> problems) {

        void require(boolean valid, String property, String expected, Object found) {
            if (!valid) {
                problems.add(new ConfigurationException(property, expected, found));
            }
        }

        void atLeast(String property, int value, int minimum) {
            require(value >= minimum, property, "at least " + minimum, value);
        }

        void fraction(String property, double value) {
            require(value >= 0 && value < 1, property, "a number in [0, 1)", value);
        }
    }
}
