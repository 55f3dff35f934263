package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import io.microkernel.testing.StoreFixtures;
import io.microkernel.testing.TensorValues;
import io.microkernel.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServedModelTest {


    @TempDir
    Path temp;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RequestTranslator translator = new RequestTranslator(16);
    private ServedModel served;

    @AfterEach
    void close() {
        if (served != null) {
            served.close();
        }
    }

    private ServedModel served(ModelStore store) {
        return served(store, SessionSettings.cpu(1, 1));
    }

    private ServedModel served(ModelStore store, SessionSettings settings) {
        served = new ServedModel("default", store, new ModelLoader(() -> OrtRuntime.bundled().environment(), settings),
                new ServingMetrics(registry, "default"));
        return served;
    }

    private ModelStore threeVersions() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store"), 5, StoreFixtures.classifierFavouring(0));
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(1), 1, "round-2");
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(2), 2, "round-3");
        return store;
    }

    private Prediction classify(OptionalInt version) {
        return served.predict(version, signature -> translator.fromTensors(signature.inputs(),
                List.of(new TensorInput("input", List.of(1L, 4L), "FP32", TensorValues.data("[0.5,-1,2,0]")))));
    }

    @Test
    void answersWithTheActiveVersionAndItsClassNames() throws IOException {
        served(threeVersions()).start();

        Prediction prediction = classify(OptionalInt.empty());

        assertThat(prediction.version()).isEqualTo(1);
        assertThat(prediction.outputs()).extracting(NamedTensor::name).containsExactly("probabilities");
        assertThat(prediction.outputs().get(0).tensor().shape()).containsExactly(1L, 3L);
        assertThat(prediction.classifications()).singleElement().satisfies(c -> {
            assertThat(c.className()).isEqualTo("cat");
            assertThat(c.index()).isZero();
            assertThat(c.scores()).hasSize(3);
            assertThat(c.scores()[0]).isGreaterThan(c.scores()[1]);
        });
        assertThat(registry.get("microkernel.inference").tag("version", "1").tag("outcome", "ok").timer().count()).isEqualTo(1);
    }

    @Test
    void countsServingWorkInFlightUntilItIsAnswered() throws IOException {
        served(threeVersions()).start();
        AtomicInteger seenInside = new AtomicInteger(-1);
        java.util.function.Function<ModelSignature, List<NamedTensor>> input = signature -> {
            seenInside.set(served.requestsInFlight());
            return translator.fromTensors(signature.inputs(),
                    List.of(new TensorInput("input", List.of(1L, 4L), "FP32", TensorValues.data("[0.5,-1,2,0]"))));
        };

        served.predict(OptionalInt.empty(), input);
        assertThat(seenInside).hasValue(1);
        assertThat(served.requestsInFlight()).isZero();

        served.requestArrived();
        seenInside.set(-1);
        served.predictAsync(OptionalInt.empty(), input, 0, Runnable::run, Runnable::run).join();
        // The HTTP request around it and the prediction itself.
        assertThat(seenInside).hasValue(2);
        assertThat(served.requestsInFlight()).isEqualTo(1);
        served.requestEnded();
        assertThat(served.requestsInFlight()).isZero();

        // Failed requests end too.
        assertThatThrownBy(() -> classify(OptionalInt.of(9))).isInstanceOf(ProblemException.class);
        assertThatThrownBy(() -> served.predictAsync(OptionalInt.empty(), signature -> {
            throw new InputValidationException(InputProblem.MISSING_INPUT, "expected input, found none");
        }, 0, Runnable::run, Runnable::run).join()).hasCauseInstanceOf(InputValidationException.class);
        assertThat(served.requestsInFlight()).isZero();
    }

    @Test
    void swapKeepsTheOldSessionOpenUntilItsLastRequestIsDone() throws Exception {
        ModelStore store = threeVersions();
        served(store).start();
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch swapped = new CountDownLatch(1);
        AtomicReference<LoadedModel> held = new AtomicReference<>();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Prediction> slowRequest = pool.submit(() -> served.withModel(OptionalInt.empty(), model -> {
                held.set(model);
                holding.countDown();
                await(swapped);
                TokenBuffer row = TensorValues.tokens("[1,2,3,4]");
                return model.run(translator.fromInstances(model.signature().inputs(), List.of(row)));
            }));
            await(holding);

            served.swap(2);
            assertThat(classify(OptionalInt.empty()).version()).isEqualTo(2);
            assertThat(held.get().isClosed()).isFalse();
            swapped.countDown();

            assertThat(slowRequest.get(30, TimeUnit.SECONDS).version()).isEqualTo(1);
            assertThat(held.get().isClosed()).isTrue();
            assertThat(Files.readString(store.root().resolve("ACTIVE")).trim()).isEqualTo("2");
            assertThat(registry.get("microkernel.model.swaps").counter().count()).isEqualTo(1);
            assertThat(registry.get("microkernel.model.active.version").gauge().value()).isEqualTo(2);
        } finally {
            swapped.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentRequestsNeverFailAcrossSwapsAndRollbacks() throws Exception {
        served(threeVersions()).start();
        // The swapper appends a version before switching to it, so while entry k is being applied the
        // served version is entry k or k-1: a request that saw indices s..e may be answered by any of
        // entries s-1..e.
        List<Integer> history = new CopyOnWriteArrayList<>(List.of(1));
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        int threads = 4;
        int requestsPerThread = 150;
        int minimumSwaps = 3;
        AtomicInteger swapsDone = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        CountDownLatch clientsDone = new CountDownLatch(threads);
        List<Future<Integer>> clients = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            clients.add(pool.submit(() -> {
                try {
                    int answered = 0;
                    // Keep asking until the swapper has done its minimum, however fast the requests are.
                    for (int i = 0; i < requestsPerThread || swapsDone.get() < minimumSwaps; i++) {
                        int start = history.size() - 1;
                        Prediction prediction = classify(OptionalInt.empty());
                        int end = history.size() - 1;
                        // A snapshot: a sub-list of the live list throws once the swapper appends to it.
                        List<Integer> allowed = List.copyOf(history).subList(Math.max(0, start - 1), end + 1);
                        if (!allowed.contains(prediction.version())) {
                            violations.add("answered by " + prediction.version() + ", active during the request: " + allowed);
                        }
                        String expectedClass = StoreFixtures.CLASSES.get(prediction.version() - 1);
                        if (!prediction.classifications().get(0).className().equals(expectedClass)) {
                            violations.add("version " + prediction.version() + " answered " + prediction.classifications().get(0).className());
                        }
                        answered++;
                    }
                    return answered;
                } finally {
                    clientsDone.countDown();
                }
            }));
        }
        int[] plan = {2, 3, 1, 3, 2, 1, 2, 3, 1, 2, 1, 3};
        int swaps = 0;
        for (int version : plan) {
            if (clientsDone.getCount() == 0) {
                break;
            }
            history.add(version);
            served.swap(version);
            swaps++;
            swapsDone.incrementAndGet();
        }
        int answered = 0;
        for (Future<Integer> client : clients) {
            answered += client.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertThat(violations).isEmpty();
        assertThat(answered).isGreaterThanOrEqualTo(threads * requestsPerThread);
        assertThat(swaps).isGreaterThanOrEqualTo(minimumSwaps);
        // Versions closed by the swaps took their timers with them; only the served version's remain.
        assertThat(registry.find("microkernel.inference").timers()).extracting(t -> t.getId().getTag("version"))
                .containsOnly(Integer.toString(served.activeVersion().getAsInt()), "none");
    }

    @Test
    void swapToAVersionThatDoesNotLoadLeavesServingAsItWas() throws IOException {
        ModelStore store = threeVersions();
        served(store).start();
        ModelVersion unloadable = publishUnloadable(store, 1);

        assertThatThrownBy(() -> served.swap(unloadable.version())).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("cannot load version 4");
        assertThat(served.activeVersion()).hasValue(1);
        assertThat(store.activeNumber()).hasValue(1);
        assertThat(classify(OptionalInt.empty()).version()).isEqualTo(1);
        assertThat(registry.get("microkernel.model.load.failures").counter().count()).isEqualTo(1);
    }

    @Test
    void startFallsBackToTheNewestVersionThatLoads() throws IOException {
        ModelStore store = threeVersions();
        int unloadable = publishUnloadable(store, 3).version();
        store.activate(unloadable);

        ModelVersion started = served(ModelStore.open(store.root(), 5)).start();

        assertThat(started.version()).isEqualTo(3);
        assertThat(Files.readString(store.root().resolve("ACTIVE")).trim()).isEqualTo("3");
        assertThat(classify(OptionalInt.empty()).classifications().get(0).className()).isEqualTo("bird");
    }

    @Test
    void aRetainedVersionAnswersWithoutBecomingActive() throws IOException {
        served(threeVersions()).start();

        Prediction pinned = classify(OptionalInt.of(3));

        assertThat(pinned.version()).isEqualTo(3);
        assertThat(pinned.classifications().get(0).className()).isEqualTo("bird");
        assertThat(served.activeVersion()).hasValue(1);
        assertThatThrownBy(() -> classify(OptionalInt.of(9))).isInstanceOf(io.microkernel.problem.ProblemException.class)
                .hasFieldOrPropertyWithValue("type", io.microkernel.problem.ProblemType.UNKNOWN_VERSION);
    }

    @Test
    void runsModelsWithSeveralInputsAndEveryDatatype() throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store"), 5, TestModels.typed());
        StoreFixtures.publish(store, temp, TestModels.twoInputs(), 1, "round-2");
        served(store).start();

        Prediction typed = served.predict(OptionalInt.empty(), signature -> translator.fromInstances(signature.inputs(), List.of(
                json("{\"i32\":[1,2],\"i64\":[10,20],\"f64\":[0.5,0.25],\"flag\":[true,false]}"))));
        Prediction sum = served.predict(OptionalInt.of(2), signature -> translator.fromInstances(signature.inputs(), List.of(
                json("{\"a\":[1,2],\"b\":[3,4]}"), json("{\"a\":[5,6],\"b\":[7,8]}"))));

        Tensor total = typed.outputs().stream().filter(o -> o.name().equals("total")).findFirst().orElseThrow().tensor();
        assertThat(TensorValues.doubles(total)).containsExactly(12.5, 22.25);
        Tensor flags = typed.outputs().stream().filter(o -> o.name().equals("flag_out")).findFirst().orElseThrow().tensor();
        assertThat(TensorValues.booleans(flags)).containsExactly(false, true);
        assertThat(typed.classifications()).isEmpty();
        assertThat(TensorValues.floats(sum.outputs().get(0).tensor())).containsExactly(4, 6, 12, 14);
        assertThat(sum.outputs().get(0).tensor().shape()).containsExactly(2L, 2L);
    }

    @Test
    void requestsBeforeAnyVersionIsLoadedAreNotReady() {
        served(ModelStore.open(temp.resolve("empty"), 5));

        assertThat(served.isReady()).isFalse();
        assertThatThrownBy(() -> classify(OptionalInt.empty())).isInstanceOf(ModelNotReadyException.class);
        assertThatThrownBy(served::start).isInstanceOf(ModelNotReadyException.class).hasMessageContaining("has no version");
    }

    @Test
    void askingForCudaWithoutItExplainsTheRemedy() throws IOException {
        assumeThat(OrtEnvironment.getAvailableProviders()).doesNotContain(OrtProvider.CUDA);
        ModelStore store = threeVersions();

        assertThatThrownBy(() -> served(store, new SessionSettings(1, 1, Device.CUDA, 0)).start())
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("microkernel.device=cuda: expected the CUDA execution provider")
                .hasMessageContaining("or set microkernel.device=cpu");
    }

    @Test
    void inferenceTimersAreRegisteredOncePerVersionAndRemovedWhenItCloses() throws IOException {
        served(threeVersions()).start();
        classify(OptionalInt.empty());
        Timer ok = registry.get("microkernel.inference").tag("version", "1").tag("outcome", "ok").timer();
        int meters = registry.getMeters().size();

        for (int i = 0; i < 20; i++) {
            classify(OptionalInt.empty());
        }

        assertThat(registry.getMeters()).hasSize(meters);
        assertThat(registry.get("microkernel.inference").tag("version", "1").tag("outcome", "ok").timer()).isSameAs(ok);
        assertThat(ok.count()).isEqualTo(21);
        served.withModel(OptionalInt.empty(), model -> {
            served.swap(2);
            // This request still runs on version 1, so its timers stay until it is done.
            assertThat(registry.find("microkernel.inference").tag("version", "1").timers()).isNotEmpty();
            return null;
        });
        assertThat(registry.find("microkernel.inference").tag("version", "1").timers()).isEmpty();
        assertThat(registry.find("microkernel.inference").tag("version", "2").timers()).hasSize(4);
        assertThat(classify(OptionalInt.empty()).version()).isEqualTo(2);
        assertThat(registry.get("microkernel.inference").tag("version", "2").tag("outcome", "ok").timer().count()).isEqualTo(1);
    }

    @Test
    void startReleasesTheFallbackVersionWhenWritingActiveFails() throws IOException {
        ModelStore store = threeVersions();
        int unloadable = publishUnloadable(store, 3).version();
        store.activate(unloadable);
        ModelStore reopened = ModelStore.open(store.root(), 5);
        // ACTIVE is replaced through ACTIVE.tmp; a folder there makes the write fail.
        Files.createDirectories(store.root().resolve("ACTIVE.tmp").resolve("in-the-way"));

        assertThatThrownBy(served(reopened)::start).isInstanceOf(ProblemException.class)
                .hasFieldOrPropertyWithValue("type", ProblemType.STORE_ERROR);

        assertThat(served.isReady()).isFalse();
        // Version 3 loaded and then was released: its session closed and its meters went with it.
        assertThat(registry.find("microkernel.inference").tag("version", "3").timers()).isEmpty();
    }

    /** Issue 10, defect 7: a loaded, non-active version that retention removed no longer answers. */
    @Test
    void aPinnedVersionRemovedByRetentionIsUnknownNotServed() throws Exception {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store"), 2, StoreFixtures.classifierFavouring(0));
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(1), 1, "round-2");
        served(store).start();
        assertThat(classify(OptionalInt.of(2)).version()).isEqualTo(2);

        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(2), 1, "round-3");
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(1), 1, "round-4");
        assertThat(store.versions()).extracting(ModelVersion::version).containsExactly(1, 3, 4);

        assertThatThrownBy(() -> classify(OptionalInt.of(2))).isInstanceOf(ProblemException.class)
                .hasFieldOrPropertyWithValue("type", ProblemType.UNKNOWN_VERSION)
                .hasMessage("version 2 not found: expected one of [1, 3, 4], found 2");
        assertThat(classify(OptionalInt.of(3)).version()).isEqualTo(3);
        assertThat(classify(OptionalInt.empty()).version()).isEqualTo(1);
    }

    @Test
    void aLoadedPinnedVersionAnswersWhileAnotherPinnedVersionLoads() throws Exception {
        ModelStore store = threeVersions();
        AtomicReference<Thread> slowLoader = new AtomicReference<>();
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch finishLoading = new CountDownLatch(1);
        ModelLoader loader = new ModelLoader(() -> {
            if (Thread.currentThread() == slowLoader.get()) {
                loading.countDown();
                await(finishLoading);
            }
            return OrtRuntime.bundled().environment();
        }, SessionSettings.cpu(1, 1));
        served = new ServedModel("default", store, loader, new ServingMetrics(registry, "default"));
        served.start();
        assertThat(classify(OptionalInt.of(2)).version()).isEqualTo(2);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Prediction> three = pool.submit(() -> {
                slowLoader.set(Thread.currentThread());
                return classify(OptionalInt.of(3));
            });
            await(loading);

            // Version 3 is loading on the other thread; version 2 answers without waiting for it.
            assertThat(classify(OptionalInt.of(2)).version()).isEqualTo(2);
            assertThat(three).isNotDone();

            finishLoading.countDown();
            assertThat(three.get(30, TimeUnit.SECONDS).version()).isEqualTo(3);
        } finally {
            finishLoading.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void twoRequestsForAVersionThatIsLoadingShareOneLoad() throws Exception {
        ModelStore store = threeVersions();
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch finishLoading = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
        AtomicReference<Boolean> started = new AtomicReference<>(false);
        ModelLoader loader = new ModelLoader(() -> {
            if (started.get()) {
                loads.incrementAndGet();
                loading.countDown();
                await(finishLoading);
            }
            return OrtRuntime.bundled().environment();
        }, SessionSettings.cpu(1, 1));
        served = new ServedModel("default", store, loader, new ServingMetrics(registry, "default"));
        served.start();
        started.set(true);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Prediction> first = pool.submit(() -> classify(OptionalInt.of(3)));
            await(loading);
            Future<Prediction> second = pool.submit(() -> classify(OptionalInt.of(3)));

            finishLoading.countDown();

            assertThat(first.get(30, TimeUnit.SECONDS).version()).isEqualTo(3);
            assertThat(second.get(30, TimeUnit.SECONDS).version()).isEqualTo(3);
            assertThat(loads).hasValue(1);
        } finally {
            finishLoading.countDown();
            pool.shutdownNow();
        }
    }

    private static TokenBuffer json(String text) {
        return TensorValues.tokens(text);
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the other side never signalled");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Publishes a version whose files do not load (a broken inference graph), after {@code parent}. */
    private ModelVersion publishUnloadable(ModelStore store, int parent) throws IOException {
        Path broken = Files.createDirectories(temp.resolve("broken"));
        Files.write(broken.resolve("inference.onnx"), "not an onnx model".getBytes());
        Files.write(broken.resolve("checkpoint"), new byte[] {1});
        return store.publish(broken, io.microkernel.store.Lineage.fromRound(parent, "bad", 1, java.util.Map.of()));
    }
}
