package io.microkernel.fleet;

import java.time.Duration;
import java.util.Objects;

/**
 * What fleet mode needs from configuration. Immutable.
 *
 * @param natsUrl          the NATS server(s), comma separated ({@code nats://host:4222})
 * @param model            the model name; bucket and stream names derive from it
 * @param replicaId        this replica's stable name (its sample consumer is named after it)
 * @param trainerEligible  whether this replica may hold the trainer lease
 * @param leaseTtl         how long a lease lives without a refresh; takeover happens within about 1.3 times this
 * @param requestTimeout   how long a JetStream call may take before it counts as NATS being unreachable
 * @param maxSamples       the sample stream's message limit (the buffer size)
 * @param duplicateWindow  how long a sample message id is remembered against retries
 * @param jsDomain         the hub's JetStream domain for a replica on a leaf node; empty for none
 */
public record FleetSettings(String natsUrl, String model, String replicaId, boolean trainerEligible,
        Duration leaseTtl, Duration requestTimeout, int maxSamples, Duration duplicateWindow, String jsDomain) {

    public FleetSettings {
        Objects.requireNonNull(natsUrl, "natsUrl");
        Objects.requireNonNull(replicaId, "replicaId");
        if (leaseTtl.toMillis() < 1000) {
            throw new IllegalArgumentException("fleet.lease-ttl must be at least 1s, found " + leaseTtl);
        }
        if (maxSamples < 1) {
            throw new IllegalArgumentException("max samples must be at least 1, found " + maxSamples);
        }
    }

    /** The model name as one NATS token (stream and bucket names allow no '.'). */
    String token() {
        return model.replace('.', '_');
    }

    String samplesStream() {
        return "MK_SAMPLES_" + token();
    }

    String samplesSubject() {
        return "mk.samples." + token();
    }

    String leaseBucket() {
        return "mk-lease-" + token();
    }

    String activeBucket() {
        return "mk-active-" + token();
    }

    String roundsBucket() {
        return "mk-rounds-" + token();
    }

    String versionsBucket() {
        return "mk-versions-" + token();
    }

    String roundRequestSubject() {
        return "mk.rounds." + token() + ".start";
    }

    String roundCancelSubject() {
        return "mk.rounds." + token() + ".cancel";
    }

    String replicasBucket() {
        return "mk-replicas-" + token();
    }

    /** How often a replica refreshes its entry in the replica registry: a quarter of the lease TTL. */
    Duration replicaHeartbeat() {
        return Duration.ofMillis(Math.max(250, leaseTtl.toMillis() / 4));
    }

    /**
     * How long a registry entry lives without a refresh (the bucket's max age, as server 2.9 has no
     * per-key TTL): twice the lease TTL, so a replica vanishes from the list within that after it
     * died, and a few late refreshes on a busy machine do not make it flicker.
     */
    Duration replicaTtl() {
        return leaseTtl.multipliedBy(2);
    }
}
