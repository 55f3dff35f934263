package io.microkernel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.testing.StoreFixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStoreTest {

    @TempDir
    Path temp;

    private Path root() {
        return temp.resolve("models").resolve("default");
    }

    @Test
    void bootstrapWritesVersionOneWithHashesAndActivatesIt() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(root(), 5, StoreFixtures.classifierFavouring(0));

        ModelVersion first = store.active().orElseThrow();
        assertThat(first.version()).isEqualTo(1);
        assertThat(first.lineage().parent()).isEmpty();
        assertThat(first.classNames()).containsExactly("cat", "dog", "bird");
        assertThat(first.fileHashes()).containsOnlyKeys("checkpoint", "inference.onnx");
        assertThat(first.fileHashes().get("inference.onnx")).isEqualTo(Durable.sha256(first.inferenceModel()));
        assertThat(Files.readString(root().resolve("ACTIVE")).trim()).isEqualTo("1");
        assertThat(root().resolve("base/checkpoint")).exists();
        assertThat(root().resolve("versions/1/manifest.json")).exists();
        assertThatThrownBy(() -> store.bootstrap(temp, StoreFixtures.CLASSES, "probabilities", (c, t) -> { }))
                .isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.STORE_ERROR).hasMessageContaining("expected an empty store");
    }

    @Test
    void publishKeepsLineageAndDoesNotActivateUntilAsked() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(root(), 5, StoreFixtures.classifierFavouring(0));

        ModelVersion second = StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(1), 1, "round-7");

        assertThat(second.version()).isEqualTo(2);
        assertThat(store.activeNumber().getAsInt()).isEqualTo(1);
        store.activate(2);
        ModelStore reopened = ModelStore.open(root(), 5);
        ModelVersion read = reopened.version(2);
        assertThat(reopened.active().orElseThrow().version()).isEqualTo(2);
        assertThat(read.lineage()).isEqualTo(new Lineage(1, "round-7", 40, Map.of("accuracy", 0.9, "loss", 0.25)));
        assertThat(read.classNames()).containsExactly("cat", "dog", "bird");
        assertThat(read.inferenceOutput()).isEqualTo("probabilities");
        assertThat(read.fileHashes()).isEqualTo(second.fileHashes());
        assertThat(read.created()).isEqualTo(second.created());
    }

    @Test
    void publishWithoutTheInferenceModelFailsAndLeavesNoVersion() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(root(), 5, StoreFixtures.classifierFavouring(0));
        Path incomplete = Files.createDirectories(temp.resolve("incomplete"));
        Files.write(incomplete.resolve("checkpoint"), new byte[] {9});

        assertThatThrownBy(() -> store.publish(incomplete, Lineage.fromRound(1, "r", 1, Map.of())))
                .isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.STORE_ERROR).hasMessageContaining("expected file inference.onnx");
        assertThat(store.versions()).extracting(ModelVersion::version).containsExactly(1);
        assertThat(ModelStore.open(root(), 5).versions()).extracting(ModelVersion::version).containsExactly(1);
    }

    @Test
    void retentionKeepsTheNewestVersionsAndAlwaysTheActiveOne() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(root(), 2, StoreFixtures.classifierFavouring(0));
        for (int v = 2; v <= 4; v++) {
            StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(v % 3), 1, "round-" + v);
        }

        assertThat(store.versions()).extracting(ModelVersion::version).containsExactly(1, 3, 4);
        assertThat(root().resolve("versions/2")).doesNotExist();
        store.activate(4);
        assertThat(store.versions()).extracting(ModelVersion::version).containsExactly(3, 4);
        assertThat(root().resolve("versions/1")).doesNotExist();
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(0), 4, "round-5");
        assertThat(store.versions()).extracting(ModelVersion::version).containsExactly(4, 5);
        assertThat(store.activeNumber().getAsInt()).isEqualTo(4);
    }

    @Test
    void activatingAnUnknownVersionFailsAndKeepsActive() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(root(), 5, StoreFixtures.classifierFavouring(0));

        assertThatThrownBy(() -> store.activate(9)).isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.UNKNOWN_VERSION)
                .hasMessageContaining("expected one of [1], found 9");
        assertThat(Files.readString(root().resolve("ACTIVE")).trim()).isEqualTo("1");
    }

    @Test
    void recoveryFallsBackToTheNewestIntactVersionWhenTheActiveOneIsCorrupt() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(root(), 5, StoreFixtures.classifierFavouring(0));
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(1), 1, "round-2");
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(2), 2, "round-3");
        store.activate(3);
        // One flipped byte in the newest version's model.
        Path model = root().resolve("versions/3/inference.onnx");
        byte[] bytes = Files.readAllBytes(model);
        bytes[bytes.length / 2] ^= 0x5A;
        Files.write(model, bytes);

        ModelStore recovered = ModelStore.open(root(), 5);

        assertThat(recovered.active().orElseThrow().version()).isEqualTo(2);
        assertThat(recovered.versions()).extracting(ModelVersion::version).containsExactly(1, 2);
        assertThat(Files.readString(root().resolve("ACTIVE")).trim()).isEqualTo("2");
        // The corrupt folder keeps its number: the next version is 4, never a second 3.
        assertThat(StoreFixtures.publish(recovered, temp, StoreFixtures.classifierFavouring(0), 2, "round-4").version())
                .isEqualTo(4);
    }

    @Test
    void recoveryIgnoresHalfWrittenVersionsAndTempFolders() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(root(), 5, StoreFixtures.classifierFavouring(0));
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(1), 1, "round-2");
        store.activate(2);
        // A publish interrupted before its rename, and a folder copied in by hand without a manifest.
        Path interrupted = Files.createDirectories(root().resolve("versions/.tmp-3-abc"));
        Files.write(interrupted.resolve("checkpoint"), new byte[] {1});
        Path noManifest = Files.createDirectories(root().resolve("versions/3"));
        Files.write(noManifest.resolve("inference.onnx"), new byte[] {1, 2});
        Files.writeString(root().resolve("ACTIVE.tmp"), "3");

        ModelStore recovered = ModelStore.open(root(), 5);

        assertThat(recovered.active().orElseThrow().version()).isEqualTo(2);
        assertThat(recovered.versions()).extracting(ModelVersion::version).containsExactly(1, 2);
        assertThat(interrupted).doesNotExist();
        assertThat(root().resolve("ACTIVE.tmp")).doesNotExist();
    }

    @Test
    void recoveryActivatesTheNewestIntactVersionWhenActiveIsMissingOrGarbage() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(root(), 5, StoreFixtures.classifierFavouring(0));
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(1), 1, "round-2");
        Files.writeString(root().resolve("ACTIVE"), "two", StandardCharsets.UTF_8);

        assertThat(ModelStore.open(root(), 5).active().orElseThrow().version()).isEqualTo(2);

        Files.delete(root().resolve("ACTIVE"));
        assertThat(ModelStore.open(root(), 5).active().orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void anEmptyStoreHasNoActiveVersion() {
        ModelStore store = ModelStore.open(root(), 5);

        assertThat(store.isEmpty()).isTrue();
        assertThat(store.active()).isEmpty();
        assertThatThrownBy(() -> store.publish(temp, Lineage.bootstrap()))
                .isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.STORE_ERROR).hasMessageContaining("empty store");
    }
}
