package io.microkernel.training;

import io.microkernel.training.features.FeatureCache;
import io.micrometer.core.instrument.MeterRegistry;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.config.ConfigurationCheck;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.serving.ServedModel;
import io.microkernel.store.ModelStore;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Builds the training side from configuration: the sample journal, the round history and the round
 * scheduler of the served model, and runs the interval trigger. The round history is opened at
 * start-up so a round a stopped process left open is marked failed before anyone asks.
 */
@ApplicationScoped
public class TrainingBeans {

    private static final Logger LOG = Logger.getLogger(TrainingBeans.class);

    @Inject
    jakarta.enterprise.inject.Instance<RoundScheduler> scheduler;

    @Inject
    ConfigurationCheck configuration;

    @Produces
    @Singleton
    SampleJournal sampleJournal(MicrokernelConfig config, ModelStore store) {
        MicrokernelConfig.Training training = config.training();
        int maxSamples = training.buffer().maxSamples();
        SampleJournal.Settings settings = new SampleJournal.Settings(maxSamples, training.holdoutFraction(),
                Math.max(1, Math.min(4096, maxSamples / 4)), Math.max(1, training.buffer().retryAfter().toSeconds()));
        return SampleJournal.open(store.root().resolve("samples"), settings);
    }

    void closeJournal(@Disposes SampleJournal journal) {
        journal.close();
    }

    @Produces
    @Singleton
    RoundRecords roundRecords(ModelStore store) {
        return RoundRecords.open(store.root().resolve("rounds"));
    }

    @Produces
    @Singleton
    TrainingMetrics trainingMetrics(MicrokernelConfig config, MeterRegistry registry, SampleJournal journal) {
        return new TrainingMetrics(registry, config.model().name(), () -> journal.stats().total());
    }

    @Produces
    @Singleton
    FeedbackLedger feedbackLedger(ModelStore store) {
        return FeedbackLedger.open(store.root().resolve("feedback").resolve("feedback-samples.txt"));
    }

    @Produces
    @Singleton
    ReferenceSets referenceSets(ModelStore store, io.microkernel.serving.RequestTranslator translator) {
        return new ReferenceSets(store.baseDir(), store.root().resolve("reference").resolve("reference.jsonl"),
                () -> ArtifactSet.open(store.baseDir()).description(), translator);
    }

    @Produces
    @Singleton
    RoundScheduler roundScheduler(MicrokernelConfig config, ModelStore store, ServedModel served,
            SampleJournal journal, RoundRecords records, TrainingMetrics metrics, FeedbackLedger ledger,
            ReferenceSets references, Provider<OrtRuntime> runtime) {
        RoundScheduler scheduler = newScheduler(config, store, served, journal, records, metrics, runtime);
        scheduler.feedbackLedger(ledger);
        MicrokernelConfig.Training.Reference reference = config.training().reference();
        if (reference.guard() || reference.replay()) {
            // Without the guard the reference set is still scored, so every decision states its numbers.
            double maxDrop = reference.guard() ? reference.maxDrop() : Double.POSITIVE_INFINITY;
            scheduler.referenceGuard(() -> references.current().map(set ->
                    new TrainingRound.ReferenceGuard(set, maxDrop, reference.replay())));
        }
        return scheduler;
    }

    private static RoundScheduler newScheduler(MicrokernelConfig config, ModelStore store, ServedModel served,
            SampleJournal journal, RoundRecords records, TrainingMetrics metrics, Provider<OrtRuntime> runtime) {
        MicrokernelConfig.Training training = config.training();
        RoundSettings defaults = new RoundSettings(training.epochs(), training.batchSize(), training.learningRate(),
                training.learningRateDecay(), training.replayFraction());
        PromotionGate gate = new PromotionGate(new PromotionGate.Thresholds(training.gate().maxRegression(),
                training.gate().minImprovement(), training.gate().maxClassRecallDrop()));
        Path workRoot = store.root().resolve("training-work");
        Supplier<ArtifactSet> artifacts = memoize(() -> ArtifactSet.open(store.baseDir()));
        RoundScheduler rounds = new RoundScheduler(config.model().name(), () -> runtime.get().environment(),
                artifacts, served, journal, records, gate,
                new RoundScheduler.Options(defaults, training.threads(), training.minNewSamples(), workRoot), metrics);
        rounds.useRoundNice(training.roundPriority().nice());
        if (training.roundPriority().yieldToServing()) {
            rounds.useServingYield(served::requestsInFlight, training.roundPriority().yieldMaxWait());
        }
        MicrokernelConfig.Training.FeatureCache cache = training.featureCache();
        return cache.enabled() ? rounds.useFeatureCache(new FeatureCache(store.root().resolve("feature-cache"),
                cache.maxMemory().asLongValue(), cache.spill())) : rounds;
    }

    void closeScheduler(@Disposes RoundScheduler scheduler) {
        scheduler.close();
    }

    void onStart(@Observes StartupEvent event) {
        if (!configuration.passed()) {
            return;
        }
        try {
            RoundScheduler rounds = scheduler.get();
            LOG.infof("training ready: %d samples buffered, %d rounds recorded", rounds.journal().stats().total(),
                    rounds.records().count());
        } catch (io.microkernel.store.DataDirLockedException e) {
            // ModelStartup said so in one line and stops the process.
            LOG.debug("training is unavailable: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("training is unavailable: " + e.getMessage());
        }
    }

    @Scheduled(identity = "training-interval", every = "${microkernel.training.interval:off}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP, delayed = "${microkernel.training.interval:0s}")
    void intervalElapsed() {
        scheduler.get().intervalElapsed()
                .ifPresent(r -> LOG.infof("interval trigger started round %d", r.id()));
    }

    /** The artifact set is read once, when the first round needs it (the store may bootstrap it at start-up). */
    private static <T> Supplier<T> memoize(Supplier<T> source) {
        return new Supplier<>() {
            private volatile T value;

            @Override
            public T get() {
                T v = value;
                if (v == null) {
                    synchronized (this) {
                        v = value;
                        if (v == null) {
                            v = source.get();
                            value = v;
                        }
                    }
                }
                return v;
            }
        };
    }
}
