package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.runtime.OrtRuntime;
import io.microkernel.store.ModelStore;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import io.microkernel.testing.StoreFixtures;
import io.microkernel.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session over text ({@code TestModels.strings()}: text [N,2] → echo [N,2] text, codes [N,2]
 * floats): the loader reads BYTES specs and warms the session with empty strings, a run hands the
 * strings to the runtime and copies text outputs back, and a joined run gives each request its rows.
 * Also a session over bfloat16, the other type that travels through the Java API's typed buffers.
 */
class TextModelRunTest {

    @TempDir
    Path temp;

    private LoadedModel model;

    @BeforeEach
    void load() throws Exception {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store"), 5, TestModels.strings());
        model = new ModelLoader(() -> OrtRuntime.bundled().environment(), SessionSettings.cpu(1, 1)).load(store.active().orElseThrow());
    }

    @AfterEach
    void release() {
        model.release();
    }

    @Test
    void textGoesInAndComesOutOfASession() {
        assertThat(model.signature().inputs()).extracting(s -> s.dtype()).containsExactly(DType.STRING);
        assertThat(model.signature().outputs()).extracting(s -> s.dtype()).containsExactly(DType.STRING, DType.FLOAT);

        Prediction answer = model.run(List.of(new NamedTensor("text", Tensor.ofStrings(new long[] {2, 2}, "a", "é", "b", "zz"))));

        assertThat(answer.outputs().get(0).tensor()).isEqualTo(Tensor.ofStrings(new long[] {2, 2}, "a", "é", "b", "zz"));
        assertThat(answer.outputs().get(1).tensor()).isEqualTo(Tensor.ofFloats(new long[] {2, 2}, 1, 3, 2, -1));
    }

    @Test
    void aJoinedRunGivesEachRequestItsOwnTextRows() {
        assertThat(model.batchable()).isTrue();
        List<NamedTensor> first = List.of(new NamedTensor("text", Tensor.ofStrings(new long[] {1, 2}, "a", "a")));
        List<NamedTensor> second = List.of(new NamedTensor("text", Tensor.ofStrings(new long[] {2, 2}, "b", "x", "", "é")));

        List<Prediction> answers = model.runJoined(List.of(first, second), new int[] {1, 2});

        assertThat(answers.get(0).outputs().get(0).tensor()).isEqualTo(Tensor.ofStrings(new long[] {1, 2}, "a", "a"));
        assertThat(answers.get(0).outputs().get(1).tensor()).isEqualTo(Tensor.ofFloats(new long[] {1, 2}, 1, 1));
        assertThat(answers.get(1).outputs().get(0).tensor()).isEqualTo(Tensor.ofStrings(new long[] {2, 2}, "b", "x", "", "é"));
        assertThat(answers.get(1).outputs().get(1).tensor()).isEqualTo(Tensor.ofFloats(new long[] {2, 2}, 2, -1, -1, 3));
    }

    @Test
    void bfloat16GoesInAndComesOutOfASession() throws Exception {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("bf16"), 5, TestModels.bfloat16());
        LoadedModel bf16 = new ModelLoader(() -> OrtRuntime.bundled().environment(), SessionSettings.cpu(1, 1)).load(store.active().orElseThrow());
        try {
            Tensor input = Tensor.builder(DType.BFLOAT16, 1, 2).addDouble(1.5).addDouble(-0.3).build();
            Prediction answer = bf16.run(List.of(new NamedTensor("bf", input)));
            assertThat(answer.outputs().get(0).tensor()).isEqualTo(input);
            assertThat(answer.outputs().get(1).tensor()).isEqualTo(Tensor.ofFloats(new long[] {1, 2}, 1.5f, -0.30078125f));
        } finally {
            bf16.release();
        }
    }
}
