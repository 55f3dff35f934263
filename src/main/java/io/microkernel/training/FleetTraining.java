package io.microkernel.training;

import io.microkernel.config.ConfigurationCheck;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.fleet.Fleet;
import io.microkernel.fleet.FleetMode;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.serving.FleetServing;
import io.microkernel.serving.FleetVersions;
import io.microkernel.store.ModelVersion;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Training's side of fleet mode: samples go to the fleet's stream and come back into the local
 * journal through this replica's consumer; rounds run on the trainer lease's holder only and
 * promote through the fleet. In single-node mode the intake is the journal and nothing else changes.
 */
@ApplicationScoped
public class FleetTraining {

    private static final Logger LOG = Logger.getLogger(FleetTraining.class);

    @Inject
    ConfigurationCheck configuration;

    @Inject
    Instance<FleetMode> mode;

    @Inject
    Instance<RoundScheduler> scheduler;

    @Inject
    FleetServing serving;

    private volatile boolean stopping;
    private volatile Thread consumer;
    private volatile FleetRounds rounds;

    @Produces
    @Singleton
    SampleIntake sampleIntake(FleetMode fleetMode, SampleJournal journal, MicrokernelConfig config) {
        return fleetMode.fleet().<SampleIntake>map(fleet -> new FleetSampleIntake(fleet.samples(),
                config.training().buffer().maxSamples(), Math.max(1, config.training().buffer().retryAfter().toSeconds())))
                .orElse(journal::append);
    }

    void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 100) StartupEvent event) {
        if (!configuration.passed() || !mode.get().enabled()) {
            return;
        }
        Fleet fleet = mode.get().fleet().orElseThrow();
        RoundScheduler rounds = scheduler.get();
        FleetVersions versions = serving.versions().orElseThrow();
        versions.onConsumed(id -> rounds.journal().markConsumed(id));
        FleetRounds fleetRounds = new FleetRounds(fleet, rounds);
        this.rounds = fleetRounds;
        fleetRounds.start();
        rounds.useFleet(fleetRounds, (comparedWith, dir, lineage, throughId) -> {
            if (!fleet.lease().isHeld()) {
                throw new ProblemException(ProblemType.ROUND_FAILED, "lost the trainer lease during the round: expected"
                        + " this replica to hold it to promote, found " + fleet.lease().holder().map(h -> "replica " + h)
                        .orElse("no holder"));
            }
            Optional<ModelVersion> promoted = versions.promoteOver(comparedWith, dir, lineage, throughId);
            promoted.ifPresent(v -> fleet.samples().purgeThrough(throughId));
            return promoted;
        });
        Thread thread = new Thread(() -> FleetSampleIntake.consume(fleet.samples(), rounds.journal(),
                rounds::samplesAdded, () -> stopping), "fleet-sample-consumer");
        thread.setDaemon(true);
        consumer = thread;
        thread.start();
        fleet.lease().start();
        LOG.infof("fleet mode: replica %s (%s) of '%s' on %s", fleet.settings().replicaId(),
                fleet.settings().trainerEligible() ? "trainer-eligible" : "serve-only", fleet.settings().model(),
                fleet.settings().natsUrl());
    }

    /**
     * Where rounds run now: {@link RoundRouting#LOCAL} in single-node mode (and before start-up), the
     * fleet's routing in fleet mode, which forwards to the trainer lease's holder.
     */
    public RoundRouting routing() {
        FleetRounds started = rounds;
        return started == null ? RoundRouting.LOCAL : started;
    }

    @PreDestroy
    void stop() {
        stopping = true;
        Thread thread = consumer;
        if (thread != null) {
            try {
                thread.join(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        FleetRounds started = rounds;
        if (started != null) {
            started.close();
        }
    }
}
