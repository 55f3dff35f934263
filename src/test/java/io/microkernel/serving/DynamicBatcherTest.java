package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.onnx.proto.OnnxMl;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microkernel.artifacts.Onnx;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import io.microkernel.testing.StoreFixtures;
import io.microkernel.testing.TestModels;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic batching on real sessions. The first run of a test holds the only run slot inside the
 * batcher's run listener until the test releases it, so which requests queue, and therefore which
 * are joined, is decided by the test and not by timing.
 */
class DynamicBatcherTest {

    /** Long enough that no queued request ever runs because its delay passed. */
    private static final BatchingSettings ONE_SLOT = new BatchingSettings(true, 32, Duration.ofMinutes(5), 1);

    @TempDir
    Path temp;

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<ExecutorService> runners = new ArrayList<>();
    private final List<LoadedModel> loaded = new ArrayList<>();
    private final List<int[]> runs = new CopyOnWriteArrayList<>();
    private final CountDownLatch firstRunEntered = new CountDownLatch(1);
    private final CountDownLatch releaseFirstRun = new CountDownLatch(1);
    private final AtomicBoolean firstRun = new AtomicBoolean(true);
    private ServedModel served;

    @AfterEach
    void close() throws InterruptedException {
        releaseFirstRun.countDown();
        pool.shutdownNow();
        pool.awaitTermination(30, TimeUnit.SECONDS);
        for (ExecutorService runner : runners) {
            runner.shutdownNow();
            runner.awaitTermination(30, TimeUnit.SECONDS);
        }
        loaded.forEach(LoadedModel::release);
        if (served != null) {
            served.close();
        }
    }

    /** A batcher whose first run waits, holding its slot, until {@link #releaseFirstRun}. */
    private DynamicBatcher holdingBatcher(BatchingSettings settings) {
        return new DynamicBatcher(settings, (requests, rows) -> {
            runs.add(new int[] {requests, rows});
            if (firstRun.getAndSet(false)) {
                firstRunEntered.countDown();
                awaitQuietly(releaseFirstRun);
            }
        });
    }

    @Test
    void queuedRequestsOfTheDefaultModelShareOneRunAndEachGetsExactlyItsOwnRows() throws Exception {
        LoadedModel model = load(ArtifactBootstrap.bootstrap(ModelStore.open(temp.resolve("store"), 5),
                Path.of("models", "default"), OrtRuntime.bundled().environment()));
        List<String> runThreads = new CopyOnWriteArrayList<>();
        DynamicBatcher batcher = new DynamicBatcher(ONE_SLOT, (requests, rows) -> {
            runs.add(new int[] {requests, rows});
            runThreads.add(Thread.currentThread().getName());
            if (firstRun.getAndSet(false)) {
                firstRunEntered.countDown();
                awaitQuietly(releaseFirstRun);
            }
        });
        Random random = new Random(7);
        Future<Prediction> holder = pool.submit(() -> batcher.run(model, images(random, 1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> firstRunEntered.getCount() == 0);
        List<List<NamedTensor>> requests = new ArrayList<>();
        List<Future<Prediction>> answers = new ArrayList<>();
        String[] askers = new String[8];
        for (int i = 0; i < 8; i++) {
            List<NamedTensor> inputs = images(random, 1 + i % 3);
            requests.add(inputs);
            int asker = i;
            answers.add(pool.submit(() -> {
                askers[asker] = Thread.currentThread().getName();
                return batcher.run(model, inputs);
            }));
            int queued = i + 1;
            await().atMost(Duration.ofSeconds(30)).until(() -> batcher.waiting() == queued);
        }

        releaseFirstRun.countDown();

        holder.get(30, TimeUnit.SECONDS);
        for (int i = 0; i < requests.size(); i++) {
            Prediction joined = answers.get(i).get(30, TimeUnit.SECONDS);
            Prediction alone = model.run(requests.get(i));
            assertThat(joined.outputs()).as("request %d", i).isEqualTo(alone.outputs());
            assertThat(joined.classifications()).hasSize(1 + i % 3);
            assertThat(joined.version()).isEqualTo(1);
        }
        int rows = requests.stream().mapToInt(r -> r.get(0).tensor().batchSize()).sum();
        assertThat(runs).containsExactly(new int[] {1, 1}, new int[] {8, rows});
        // No thread of the batcher's own: the oldest queued caller, blocked in run(), ran the joined run.
        assertThat(runThreads.get(1)).isEqualTo(askers[0]);
        assertThat(batcher.ranAtOnce()).isEqualTo(1);
        assertThat(batcher.ranOnCaller()).isEqualTo(1);
        assertThat(batcher.queued()).isEqualTo(8);
        assertThat(batcher.joinedRuns()).isEqualTo(1);
    }

    @Test
    void everythingQueuedDuringARunGoesIntoTheNextRunOnTheOldestRequestsRunnerAndTheCallerNeverWaits() throws Exception {
        LoadedModel model = load(softmaxModel());
        List<String> runThreads = new CopyOnWriteArrayList<>();
        DynamicBatcher batcher = new DynamicBatcher("m", ONE_SLOT, (requests, rows) -> {
            runs.add(new int[] {requests, rows});
            runThreads.add(Thread.currentThread().getName());
            if (firstRun.getAndSet(false)) {
                firstRunEntered.countDown();
                awaitQuietly(releaseFirstRun);
            }
        });
        Future<Prediction> holder = pool.submit(() -> batcher.run(model, rows(1, 3, 0)));
        await().atMost(Duration.ofSeconds(30)).until(() -> firstRunEntered.getCount() == 0);
        List<List<NamedTensor>> requests = new ArrayList<>();
        List<CompletableFuture<Prediction>> answers = new ArrayList<>();
        ExecutorService oldest = runner("runner-of-the-oldest");
        ExecutorService others = runner("runner-of-the-others");
        for (int i = 0; i < 6; i++) {
            List<NamedTensor> inputs = rows(1 + i % 2, 3, i + 1);
            requests.add(inputs);
            // On this thread: submit returns while the only slot is held, so it did not wait for a run.
            answers.add(batcher.submit(model, inputs, i == 0 ? oldest : others, true));
        }
        assertThat(answers).noneMatch(CompletableFuture::isDone);
        assertThat(batcher.waiting()).isEqualTo(6);

        releaseFirstRun.countDown();

        holder.get(30, TimeUnit.SECONDS);
        for (int i = 0; i < requests.size(); i++) {
            Prediction answer = answers.get(i).get(30, TimeUnit.SECONDS);
            assertThat(answer.outputs()).as("request %d", i).isEqualTo(model.run(requests.get(i)).outputs());
            assertThat(answer.version()).isEqualTo(1);
        }
        assertThat(runs).containsExactly(new int[] {1, 1}, new int[] {6, 9});
        assertThat(runThreads.get(1)).isEqualTo("runner-of-the-oldest");
        assertThat(batcher.queued()).isEqualTo(6);
        assertThat(batcher.joinedRuns()).isEqualTo(1);
        batcher.close();
    }

    @Test
    void aLoneSubmittedRequestRunsOnItsCallerWhenAllowedAndAtOnceOnItsRunnerWhenNot() throws Exception {
        LoadedModel model = load(softmaxModel());
        List<String> runThreads = new CopyOnWriteArrayList<>();
        DynamicBatcher batcher = new DynamicBatcher("m", ONE_SLOT, (requests, rows) -> {
            runs.add(new int[] {requests, rows});
            runThreads.add(Thread.currentThread().getName());
        });

        ExecutorService runner = runner("runner");
        CompletableFuture<Prediction> here = batcher.submit(model, rows(1, 3, 1), runner, true);
        assertThat(here).as("answered before submit returned").isDone();
        assertThat(runThreads).containsExactly(Thread.currentThread().getName());

        // Not allowed to run here: its runner runs it, and the 5-minute delay does not apply with no other run.
        Prediction handedOver = batcher.submit(model, rows(1, 3, 2), runner, false).get(30, TimeUnit.SECONDS);

        assertThat(handedOver.outputs()).isEqualTo(model.run(rows(1, 3, 2)).outputs());
        assertThat(runThreads.get(1)).isEqualTo("runner");
        assertThat(batcher.ranAtOnce()).isEqualTo(2);
        assertThat(batcher.ranOnCaller()).isEqualTo(1);
        assertThat(batcher.queued()).isZero();
        assertThat(batcher.timerRunning()).as("no wait, no timer").isFalse();
        batcher.close();
    }

    @Test
    void aQueueDelayHoldsAFreeSlotForMoreRequestsOnlyWhileAnotherRunIsInProgress() throws Exception {
        LoadedModel model = load(softmaxModel());
        // Two slots, three rows at most, a delay no test waits out: the second slot waits for a full batch.
        DynamicBatcher batcher = holdingBatcher(new BatchingSettings(true, 3, Duration.ofMinutes(5), 2));
        Future<Prediction> holder = pool.submit(() -> batcher.run(model, rows(1, 3, 0)));
        await().atMost(Duration.ofSeconds(30)).until(() -> firstRunEntered.getCount() == 0);

        List<CompletableFuture<Prediction>> answers = new ArrayList<>();
        ExecutorService runner = runner("runner");
        for (int i = 1; i <= 3; i++) {
            answers.add(batcher.submit(model, rows(1, 3, i), runner, i % 2 == 0));
        }

        // Without the delay the free slot would have run the first of them alone at once.
        for (CompletableFuture<Prediction> answer : answers) {
            answer.get(30, TimeUnit.SECONDS);
        }
        assertThat(holder).isNotDone();
        assertThat(runs).containsExactly(new int[] {1, 1}, new int[] {3, 3});
        releaseFirstRun.countDown();
        holder.get(30, TimeUnit.SECONDS);
        batcher.close();
    }

    @Test
    void aQueuedRequestWhoseDelayRunsOutRunsWithWhatHasJoinedItWhileTheOtherRunGoesOn() throws Exception {
        LoadedModel model = load(softmaxModel());
        // Two slots, a batch of 8 never fills: only the delay ends the wait, on the batcher's timer.
        DynamicBatcher batcher = holdingBatcher(new BatchingSettings(true, 8, Duration.ofMillis(50), 2));
        Future<Prediction> holder = pool.submit(() -> batcher.run(model, rows(1, 3, 0)));
        await().atMost(Duration.ofSeconds(30)).until(() -> firstRunEntered.getCount() == 0);

        CompletableFuture<Prediction> answer = batcher.submit(model, rows(2, 3, 1), runner("runner"), true);

        assertThat(answer.get(30, TimeUnit.SECONDS).outputs()).isEqualTo(model.run(rows(2, 3, 1)).outputs());
        assertThat(holder).isNotDone();
        assertThat(batcher.timerRunning()).isTrue();
        assertThat(batcher.queued()).isEqualTo(1);
        assertThat(runs).containsExactly(new int[] {1, 1}, new int[] {1, 2});
        releaseFirstRun.countDown();
        holder.get(30, TimeUnit.SECONDS);
        batcher.close();
        assertThat(batcher.timerRunning()).as("stopped by close").isFalse();
    }

    @Test
    void closingAnswersEveryQueuedRequestAndLaterRequestsRunOnTheirCaller() throws Exception {
        LoadedModel model = load(softmaxModel());
        DynamicBatcher batcher = holdingBatcher(ONE_SLOT);
        Future<Prediction> holder = pool.submit(() -> batcher.run(model, rows(1, 3, 0)));
        await().atMost(Duration.ofSeconds(30)).until(() -> firstRunEntered.getCount() == 0);
        List<CompletableFuture<Prediction>> answers = new ArrayList<>();
        ExecutorService runner = runner("runner");
        for (int i = 1; i <= 3; i++) {
            answers.add(batcher.submit(model, rows(1, 3, i), runner, true));
        }

        batcher.close();
        releaseFirstRun.countDown();

        holder.get(30, TimeUnit.SECONDS);
        for (CompletableFuture<Prediction> answer : answers) {
            assertThat(answer.get(30, TimeUnit.SECONDS).version()).isEqualTo(1);
        }
        assertThat(runs).containsExactly(new int[] {1, 1}, new int[] {3, 3});
        CompletableFuture<Prediction> afterClose = batcher.submit(model, rows(1, 3, 9), runner, false);
        assertThat(afterClose).isDone();
        assertThat(afterClose.get().outputs()).isEqualTo(model.run(rows(1, 3, 9)).outputs());
    }

    @Test
    void aLoneRequestRunsAtOnceEvenWithALongQueueDelay() throws Exception {
        LoadedModel model = load(softmaxModel());
        DynamicBatcher batcher = new DynamicBatcher(ONE_SLOT, (requests, rows) -> runs.add(new int[] {requests, rows}));

        for (int i = 0; i < 20; i++) {
            List<NamedTensor> inputs = rows(1, 3, i);
            assertThat(batcher.run(model, inputs).outputs()).isEqualTo(model.run(inputs).outputs());
        }

        assertThat(batcher.ranAtOnce()).isEqualTo(20);
        assertThat(batcher.queued()).isZero();
        assertThat(runs).hasSize(20).allSatisfy(run -> assertThat(run).containsExactly(1, 1));
    }

    @Test
    void requestsOfOtherRowShapesOrVersionsAreNeverJoined() throws Exception {
        LoadedModel first = load(softmaxModel());
        LoadedModel second = load(softmaxModel());
        DynamicBatcher batcher = holdingBatcher(ONE_SLOT);
        Future<Prediction> holder = pool.submit(() -> batcher.run(first, rows(1, 3, 0)));
        await().atMost(Duration.ofSeconds(30)).until(() -> firstRunEntered.getCount() == 0);
        // Queued in this order: width 3 on the first version, width 5, width 3 on the second version (a swap), width 3 again.
        List<LoadedModel> models = List.of(first, first, second, first, second, first);
        List<List<NamedTensor>> requests = List.of(rows(2, 3, 1), rows(1, 5, 2), rows(1, 3, 3), rows(1, 3, 4),
                rows(2, 3, 5), rows(1, 5, 6));
        List<Future<Prediction>> answers = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            LoadedModel model = models.get(i);
            List<NamedTensor> inputs = requests.get(i);
            answers.add(pool.submit(() -> batcher.run(model, inputs)));
            int queued = i + 1;
            await().atMost(Duration.ofSeconds(30)).until(() -> batcher.waiting() == queued);
        }

        releaseFirstRun.countDown();

        holder.get(30, TimeUnit.SECONDS);
        for (int i = 0; i < requests.size(); i++) {
            Prediction answer = answers.get(i).get(30, TimeUnit.SECONDS);
            assertThat(answer.outputs()).as("request %d", i).isEqualTo(models.get(i).run(requests.get(i)).outputs());
        }
        // The oldest leads each run: first version width 3 (requests 0 and 3), width 5 (1 and 5), second version (2 and 4).
        assertThat(runs).containsExactly(new int[] {1, 1}, new int[] {2, 3}, new int[] {2, 2}, new int[] {2, 3});
        assertThat(batcher.joinedRuns()).isEqualTo(3);
    }

    @Test
    void aRequestTheModelRejectsFailsAloneAndTheOthersInItsRunAreAnswered() throws Exception {
        LoadedModel model = load(lookupModel());
        DynamicBatcher batcher = holdingBatcher(ONE_SLOT);
        Future<Prediction> holder = pool.submit(() -> batcher.run(model, indices(0)));
        await().atMost(Duration.ofSeconds(30)).until(() -> firstRunEntered.getCount() == 0);
        long[] wanted = {1, 2, 99, 3};
        List<Future<Prediction>> answers = new ArrayList<>();
        for (int i = 0; i < wanted.length; i++) {
            long index = wanted[i];
            answers.add(pool.submit(() -> batcher.run(model, indices(index))));
            int queued = i + 1;
            await().atMost(Duration.ofSeconds(30)).until(() -> batcher.waiting() == queued);
        }

        releaseFirstRun.countDown();

        holder.get(30, TimeUnit.SECONDS);
        for (int i : new int[] {0, 1, 3}) {
            Prediction answer = answers.get(i).get(30, TimeUnit.SECONDS);
            assertThat(answer.outputs().get(0).tensor().getDouble(0)).isEqualTo(10.0 * wanted[i]);
        }
        assertThatThrownBy(() -> answers.get(2).get(30, TimeUnit.SECONDS))
                .hasCauseInstanceOf(RuntimeException.class)
                .cause().satisfiesAnyOf(
                        e -> assertThat(e).isInstanceOf(InputValidationException.class),
                        e -> assertThat(e).isInstanceOf(InferenceFailedException.class));
        assertThat(batcher.joinedRuns()).as("the joined run failed, so each request ran alone").isZero();
        assertThat(runs).containsExactly(new int[] {1, 1}, new int[] {4, 4});
    }

    @Test
    void aModelWithAFixedFirstDimensionNeverQueues() throws Exception {
        LoadedModel model = load(fixedBatchModel());
        DynamicBatcher batcher = new DynamicBatcher(ONE_SLOT, (requests, rows) -> runs.add(new int[] {requests, rows}));

        Prediction answer = batcher.run(model, List.of(new NamedTensor("x", Tensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6))));

        assertThat(model.batchable()).isFalse();
        assertThat(answer.outputs().get(0).tensor().shape()).containsExactly(2L, 3L);
        assertThat(batcher.ranAtOnce()).isZero();
        assertThat(runs).isEmpty();
    }

    @Test
    void servedModelAnswersEveryRequestWithTheVersionThatComputedItWhileSwapping() throws Exception {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store"), 5, StoreFixtures.classifierFavouring(0));
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(1), 1, "round-2");
        served = new ServedModel("default", store, new ModelLoader(() -> OrtRuntime.bundled().environment(), SessionSettings.cpu(1, 1)),
                new ServingMetrics(new SimpleMeterRegistry(), "default"), new BatchingSettings(true, 16, Duration.ofMillis(5), 1));
        served.start();
        sixClientsAskWhileTwentySwapsHappen(() -> served.predict(OptionalInt.empty(), signature -> List.of(new NamedTensor("input",
                Tensor.ofFloats(new long[] {1, 4}, 0.5f, -1, 2, 0)))));
        assertThat(served.batcher().ranAtOnce() + served.batcher().queued()).isPositive();
    }

    @Test
    void servedModelAnswersEveryAsyncRequestWithTheVersionThatComputedItWhileSwapping() throws Exception {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store"), 5, StoreFixtures.classifierFavouring(0));
        StoreFixtures.publish(store, temp, StoreFixtures.classifierFavouring(1), 1, "round-2");
        served = new ServedModel("default", store, new ModelLoader(() -> OrtRuntime.bundled().environment(), SessionSettings.cpu(1, 1)),
                new ServingMetrics(new SimpleMeterRegistry(), "default"), new BatchingSettings(true, 16, Duration.ZERO, 1));
        served.start();
        assertThat(served.gathers(1)).isTrue();
        java.util.concurrent.atomic.AtomicInteger onCallerLoop = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.Executor callerLoop = task -> {
            onCallerLoop.incrementAndGet();
            pool.execute(task);
        };
        ExecutorService workers = runner("worker");
        // Never run on the asking thread nor its loop (no run is short within 0 ns): every run is a worker's.
        sixClientsAskWhileTwentySwapsHappen(() -> served.predictAsync(OptionalInt.empty(), signature -> List.of(new NamedTensor("input",
                Tensor.ofFloats(new long[] {1, 4}, 0.5f, -1, 2, 0))), 0, callerLoop, workers).get(60, TimeUnit.SECONDS));
        assertThat(served.batcher().queued()).isPositive();
        assertThat(served.batcher().ranOnCaller()).isZero();
        assertThat(onCallerLoop).hasValue(0);
        assertThatThrownBy(() -> served.predictAsync(OptionalInt.empty(), signature -> List.of(new NamedTensor("input",
                Tensor.ofFloats(new long[] {1, 3}, 1, 2, 3))), 0, callerLoop, workers).get(30, TimeUnit.SECONDS))
                .as("a request the model rejects fails alone, with the exception predict throws")
                .cause().isInstanceOfAny(InputValidationException.class, InferenceFailedException.class);
    }

    @Test
    void aShortAsyncRequestRunsOnItsCallerWhenIdleAndItsBatchOnTheCallersLoop() throws Exception {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store"), 5, StoreFixtures.classifierFavouring(0));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        served = new ServedModel("default", store, new ModelLoader(() -> OrtRuntime.bundled().environment(), SessionSettings.cpu(1, 1)),
                new ServingMetrics(registry, "default"), ONE_SLOT);
        served.start();
        java.util.function.Function<ModelSignature, List<NamedTensor>> oneRow = signature -> List.of(new NamedTensor("input",
                Tensor.ofFloats(new long[] {1, 4}, 0.5f, -1, 2, 0)));
        ExecutorService loopThread = runner("caller-loop");
        ExecutorService workerThread = runner("worker");
        java.util.concurrent.atomic.AtomicInteger toLoop = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger toWorkers = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.Executor loop = task -> {
            toLoop.incrementAndGet();
            loopThread.execute(task);
        };
        java.util.concurrent.Executor workers = task -> {
            toWorkers.incrementAndGet();
            workerThread.execute(task);
        };
        // The first run shows how long a run takes; a second of it is short.
        assertThat(served.predictAsync(OptionalInt.empty(), oneRow, 0, loop, workers).get(30, TimeUnit.SECONDS).version()).isEqualTo(1);
        long second = TimeUnit.SECONDS.toNanos(1);

        assertThat(served.predictAsync(OptionalInt.empty(), oneRow, second, loop, workers)).as("ran before it returned").isDone();
        assertThat(served.batcher().ranOnCaller()).isEqualTo(1);

        // While a long run holds the only slot, three short requests queue; their batch runs on the oldest one's loop.
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Prediction> held = served.predictAsync(OptionalInt.empty(), oneRow, 0, loop, task -> workerThread.execute(() -> {
            holding.countDown();
            awaitQuietly(release);
            task.run();
        }));
        holding.await(30, TimeUnit.SECONDS);
        List<CompletableFuture<Prediction>> answers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            answers.add(served.predictAsync(OptionalInt.empty(), oneRow, second, loop, workers));
        }
        assertThat(served.batcher().waiting()).isEqualTo(3);
        release.countDown();

        assertThat(held.get(30, TimeUnit.SECONDS).version()).isEqualTo(1);
        for (CompletableFuture<Prediction> answer : answers) {
            assertThat(answer.get(30, TimeUnit.SECONDS).version()).isEqualTo(1);
        }
        assertThat(toWorkers).as("only the first, long request went to a worker").hasValue(1);
        assertThat(toLoop).as("the three short ones' batch was handed to the oldest one's loop, once").hasValue(1);
        io.micrometer.core.instrument.distribution.CountAtBucket[] buckets = registry.get("microkernel.inference.batch.requests")
                .summary().takeSnapshot().histogramCounts();
        assertThat(buckets[0].bucket()).isEqualTo(1.0);
        assertThat(buckets[0].count()).as("runs of one request: the first two and the held one").isEqualTo(3);
        assertThat(buckets[2].bucket()).isEqualTo(3.0);
        assertThat(buckets[2].count()).as("runs of up to three requests, cumulative").isEqualTo(4);
    }

    @Test
    void servedModelCallsARunShortOnlyAfterRunsShowItAndNeverWhenItMayBatch() throws Exception {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store"), 5, StoreFixtures.classifierFavouring(0));
        ModelLoader loader = new ModelLoader(() -> OrtRuntime.bundled().environment(), SessionSettings.cpu(1, 1));
        served = new ServedModel("default", store, loader, new ServingMetrics(new SimpleMeterRegistry(), "default"));
        assertThat(served.runsWithin(1, Long.MAX_VALUE)).as("nothing loaded").isFalse();
        served.start();
        for (int i = 0; i < 50; i++) {
            served.predict(OptionalInt.empty(), signature -> List.of(new NamedTensor("input",
                    Tensor.ofFloats(new long[] {1, 4}, 0.5f, -1, 2, 0))));
        }

        assertThat(served.runsWithin(1, TimeUnit.SECONDS.toNanos(1))).isTrue();
        assertThat(served.runsWithin(1, 1)).as("no run takes a nanosecond").isFalse();
        assertThat(served.runsWithin(0, Long.MAX_VALUE)).as("no rows declared").isFalse();
        ServedModel batching = new ServedModel("default", store, loader, new ServingMetrics(new SimpleMeterRegistry(), "b"),
                ONE_SLOT);
        try {
            batching.start();
            batching.predict(OptionalInt.empty(), signature -> List.of(new NamedTensor("input",
                    Tensor.ofFloats(new long[] {1, 4}, 0.5f, -1, 2, 0))));
            assertThat(batching.runsWithin(1, Long.MAX_VALUE)).as("a batching model's requests may wait").isFalse();
            assertThat(batching.gathers(1)).isTrue();
            assertThat(batching.gathers(33)).as("more rows than a batch takes").isFalse();
            assertThat(served.gathers(1)).as("batching off").isFalse();
        } finally {
            batching.close();
        }
    }

    // ------------------------------------------------------------ fixtures

    /** A single-thread executor whose thread has {@code name}, shut down after the test. */
    private ExecutorService runner(String name) {
        ExecutorService runner = Executors.newSingleThreadExecutor(task -> new Thread(task, name));
        runners.add(runner);
        return runner;
    }

    private LoadedModel load(ModelVersion version) {
        LoadedModel model = new ModelLoader(() -> OrtRuntime.bundled().environment(), SessionSettings.cpu(1, 1)).load(version);
        loaded.add(model);
        return model;
    }

    private LoadedModel load(OnnxMl.ModelProto proto) throws IOException {
        ModelStore store = StoreFixtures.bootstrapped(temp.resolve("store-" + loaded.size()), 5, proto);
        return load(store.active().orElseThrow());
    }

    private static List<NamedTensor> images(Random random, int rows) {
        float[] pixels = new float[rows * 16 * 16];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = random.nextFloat();
        }
        return List.of(new NamedTensor("image", Tensor.ofFloats(new long[] {rows, 1, 16, 16}, pixels)));
    }

    /** {@code rows} rows of {@code width} distinct values, different for every {@code seed}. */
    private static List<NamedTensor> rows(int rows, int width, int seed) {
        float[] values = new float[rows * width];
        for (int i = 0; i < values.length; i++) {
            values[i] = seed + i * 0.37f;
        }
        return List.of(new NamedTensor("x", Tensor.ofFloats(new long[] {rows, width}, values)));
    }

    private static List<NamedTensor> indices(long index) {
        return List.of(new NamedTensor("index", Tensor.ofLongs(new long[] {1, 1}, index)));
    }

    /** {@code x} FP32 [batch, width] -> Softmax over each row -> {@code y} [batch, width]. */
    private static OnnxMl.ModelProto softmaxModel() {
        return model(OnnxMl.GraphProto.newBuilder().setName("softmax")
                .addInput(info("x", Onnx.FLOAT, "batch", "width"))
                .addOutput(info("y", Onnx.FLOAT, "batch", "width"))
                .addNode(node("Softmax", List.of("x"), List.of("y"), 1)));
    }

    /** {@code index} INT64 [batch, 1] -> Gather from the rows {0, 10, 20, 30, 40} -> {@code value} [batch, 1]; other indices fail at run time. */
    private static OnnxMl.ModelProto lookupModel() {
        return model(OnnxMl.GraphProto.newBuilder().setName("lookup")
                .addInput(info("index", Onnx.INT64, "batch", 1))
                .addOutput(info("value", Onnx.FLOAT, "batch", 1))
                .addInitializer(Onnx.floatTensor("table", new long[] {5}, new float[] {0, 10, 20, 30, 40}))
                .addNode(node("Gather", List.of("table", "index"), List.of("value"), 0)));
    }

    /** {@code x} FP32 [2, 3] -> Softmax -> {@code y} [2, 3]: rows cannot be joined. */
    private static OnnxMl.ModelProto fixedBatchModel() {
        return model(OnnxMl.GraphProto.newBuilder().setName("fixed")
                .addInput(Onnx.valueInfo("x", Onnx.FLOAT, 2, 3))
                .addOutput(Onnx.valueInfo("y", Onnx.FLOAT, 2, 3))
                .addNode(node("Softmax", List.of("x"), List.of("y"), 1)));
    }

    private static OnnxMl.ValueInfoProto info(String name, int type, Object... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (Object dim : dims) {
            shape.addDim(dim instanceof String param ? OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(param)
                    : OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) dim).longValue()));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }

    private static OnnxMl.NodeProto node(String op, List<String> inputs, List<String> outputs, long axis) {
        return OnnxMl.NodeProto.newBuilder().setOpType(op).setName(op).addAllInput(inputs).addAllOutput(outputs)
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis")
                        .setType(OnnxMl.AttributeProto.AttributeType.INT).setI(axis))
                .build();
    }

    private static OnnxMl.ModelProto model(OnnxMl.GraphProto.Builder graph) {
        return OnnxMl.ModelProto.newBuilder().setIrVersion(8).setProducerName("microkernel-tests")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph).build();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Six clients ask through {@code ask} while {@code served} swaps between versions 1 and 2 twenty
     * times; every answer must come from the version that computed it (version v favours class v-1,
     * so the class shows which version computed the row), and every client answers at least 20.
     */
    private void sixClientsAskWhileTwentySwapsHappen(java.util.concurrent.Callable<Prediction> ask) throws Exception {
        AtomicBoolean swapping = new AtomicBoolean(true);
        List<Future<Integer>> clients = new ArrayList<>();
        for (int c = 0; c < 6; c++) {
            clients.add(pool.submit(() -> {
                int answered = 0;
                while (swapping.get() || answered < 20) {
                    Prediction answer = ask.call();
                    assertThat(answer.classifications()).singleElement()
                            .satisfies(c1 -> assertThat(c1.index()).isEqualTo(answer.version() - 1));
                    answered++;
                }
                return answered;
            }));
        }
        for (int i = 0; i < 20; i++) {
            served.swap(i % 2 == 0 ? 2 : 1);
        }
        swapping.set(false);
        for (Future<Integer> client : clients) {
            assertThat(client.get(60, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(20);
        }
    }
}
