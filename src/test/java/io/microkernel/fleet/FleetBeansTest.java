package io.microkernel.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replica id fleet mode makes up when {@code microkernel.fleet.replica-id} is unset. */
class FleetBeansTest {

    @TempDir
    Path dir;

    @Test
    void aGeneratedReplicaIdIsKeptInTheModelsFolderAndReusedAfterARestart() {
        Path model = dir.resolve("models").resolve("default");
        String first = FleetBeans.persistedReplicaId(model);
        assertThat(first).matches("[0-9a-f]{8}");
        assertThat(model.resolve(FleetBeans.REPLICA_ID_FILE)).content(StandardCharsets.US_ASCII).isEqualTo(first + "\n");
        assertThat(FleetBeans.persistedReplicaId(model)).as("after a restart").isEqualTo(first);
        assertThat(FleetBeans.persistedReplicaId(dir.resolve("other"))).as("another data dir").isNotEqualTo(first);
    }
}
