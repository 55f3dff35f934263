package io.microkernel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.testing.StoreFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fleet mode's import: another replica's version keeps its number, and a file that fails its hash is refused. */
class ModelStoreImportTest {

    @TempDir
    Path dir;

    @Test
    void anImportedVersionKeepsItsNumberAndLineageAndNumbersGoOnAboveIt() throws Exception {
        ModelStore trainer = StoreFixtures.bootstrapped(dir.resolve("trainer"), 5, StoreFixtures.classifierFavouring(0));
        trainer.reserveNumbersThrough(6);
        ModelVersion seventh = StoreFixtures.publish(trainer, Files.createDirectories(dir.resolve("scratch")), StoreFixtures.classifierFavouring(1),
                1, "round-9");
        assertThat(seventh.version()).as("numbers above every fleet version").isEqualTo(7);

        ModelStore replica = StoreFixtures.bootstrapped(dir.resolve("replica"), 5, StoreFixtures.classifierFavouring(0));
        ModelVersion imported = replica.importVersion(7, seventh.dir());
        assertThat(imported.version()).isEqualTo(7);
        assertThat(imported.lineage().roundId()).isEqualTo("round-9");
        assertThat(imported.fileHashes()).isEqualTo(seventh.fileHashes());
        assertThat(replica.holds(7)).isTrue();
        assertThat(replica.activeNumber()).hasValue(1);
        assertThat(ModelStore.open(dir.resolve("replica"), 5).holds(7)).as("it survives a restart").isTrue();
    }

    @Test
    void aFileThatFailsItsHashIsRefusedAndNothingIsLeftBehind() throws Exception {
        ModelStore trainer = StoreFixtures.bootstrapped(dir.resolve("trainer"), 5, StoreFixtures.classifierFavouring(0));
        ModelVersion second = StoreFixtures.publish(trainer, Files.createDirectories(dir.resolve("scratch")), StoreFixtures.classifierFavouring(1),
                1, "round-1");
        Path corrupt = Files.createDirectories(dir.resolve("download"));
        for (String name : new String[] {ModelStore.CHECKPOINT, ModelStore.INFERENCE_MODEL, ModelStore.MANIFEST}) {
            Files.copy(second.dir().resolve(name), corrupt.resolve(name));
        }
        Files.write(corrupt.resolve(ModelStore.CHECKPOINT), new byte[] {1, 2, 3});

        ModelStore replica = StoreFixtures.bootstrapped(dir.resolve("replica"), 5, StoreFixtures.classifierFavouring(0));
        assertThatThrownBy(() -> replica.importVersion(2, corrupt)).isInstanceOf(ProblemException.class)
                .hasMessageContaining("expected SHA-256")
                .satisfies(e -> assertThat(((ProblemException) e).type()).isEqualTo(ProblemType.STORE_ERROR));
        assertThat(replica.holds(2)).isFalse();
        assertThat(Files.exists(dir.resolve("replica").resolve("versions").resolve("2"))).isFalse();
    }
}
