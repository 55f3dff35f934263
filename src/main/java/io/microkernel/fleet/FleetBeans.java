package io.microkernel.fleet;

import io.microkernel.config.MicrokernelConfig;
import io.microkernel.problem.ConfigurationException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/** Builds fleet mode from {@code microkernel.fleet.*}: present only when a NATS URL is configured. */
@ApplicationScoped
public class FleetBeans {

    static final String TRAINER_ELIGIBLE = "trainer-eligible";
    static final String SERVE_ONLY = "serve-only";
    /** Where a generated replica id is kept, so a restarted replica resumes its sample consumer. */
    static final String REPLICA_ID_FILE = "fleet-replica-id";

    @Produces
    @Singleton
    FleetMode fleetMode(MicrokernelConfig config) {
        MicrokernelConfig.Fleet fleet = config.fleet();
        Optional<String> url = fleet.natsUrl().map(String::trim).filter(u -> !u.isEmpty());
        if (url.isEmpty()) {
            return new FleetMode(Optional.empty());
        }
        String role = fleet.role().trim();
        if (!role.equals(TRAINER_ELIGIBLE) && !role.equals(SERVE_ONLY)) {
            throw new ConfigurationException("microkernel.fleet.role", TRAINER_ELIGIBLE + " or " + SERVE_ONLY, "'" + role + "'");
        }
        Path modelRoot = config.dataDir().resolve("models").resolve(config.model().name());
        String replicaId = fleet.replicaId().orElseGet(() -> persistedReplicaId(modelRoot));
        FleetSettings settings = new FleetSettings(url.get(), config.model().name(), replicaId,
                role.equals(TRAINER_ELIGIBLE), fleet.leaseTtl(), fleet.requestTimeout(),
                config.training().buffer().maxSamples(), fleet.duplicateWindow(), fleet.jsDomain().orElse(""));
        return new FleetMode(Optional.of(Fleet.open(settings)));
    }

    void close(@Disposes FleetMode mode) {
        mode.fleet().ifPresent(Fleet::close);
    }

    /** A random id made at the first start and kept in the model's folder. */
    static String persistedReplicaId(Path modelRoot) {
        Path file = modelRoot.resolve(REPLICA_ID_FILE);
        try {
            if (Files.exists(file)) {
                String id = Files.readString(file, StandardCharsets.US_ASCII).trim();
                if (!id.isEmpty()) {
                    return id;
                }
            }
            String id = UUID.randomUUID().toString().substring(0, 8);
            Files.createDirectories(modelRoot);
            io.microkernel.store.Durable.replace(file, (id + "\n").getBytes(StandardCharsets.US_ASCII));
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the fleet replica id in " + file + ": " + e.getMessage(), e);
        }
    }
}
