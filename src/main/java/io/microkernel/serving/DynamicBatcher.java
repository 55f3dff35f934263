package io.microkernel.serving;

import io.microkernel.tensor.DType;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;

/**
 * Dynamic batching without threads of its own. A request that finds a run slot free and nothing
 * queued runs at once; one that arrives while every slot ({@link BatchingSettings#concurrentRuns})
 * is busy joins one queue and costs nothing more until a run ends. The thread that ends a run then
 * takes the oldest queued request together with every queued request of the same version and row
 * shapes, up to {@link BatchingSettings#maxRows} rows, and hands that batch to the oldest request's
 * runner (the executor its caller named: its HTTP event loop for a short run, a worker pool for a
 * long one, or the caller's own blocked thread for {@link #run}), which runs it as one ORT run and
 * answers each request with exactly its own rows. So under load everything that queued during one
 * run goes into the next, and no request pays for a wake-up of a batcher thread: a queued request's
 * batch runs where the request would have run without batching.
 *
 * <p>With a {@link BatchingSettings#maxQueueDelay} above zero, a free slot whose next batch is not
 * full waits up to that long (counted from the oldest queued request's arrival) for more requests,
 * but only while other runs of the model are in progress, so a lone request is still never delayed;
 * a timer thread, started with the first such wait, ends the waits that no arrival or run ends.
 *
 * <p>Requests of different versions or row shapes are never joined (the key holds the
 * {@link LoadedModel} itself, so a swap starts new batches). When a joined run fails, each of its
 * requests runs again on its own, so one bad request does not fail the others. Models without a
 * dynamic first dimension on every input and output, and requests of more than {@code maxRows}
 * rows, always run alone on the caller's thread and take no slot.
 *
 * <p>A queued request's caller holds its reference on the model until the request's future
 * completes; a runner must run every batch it is handed (a runner that refuses one has it run on
 * the thread that handed it over). {@link #close} answers what is queued as slots free and sends
 * later requests to their caller's thread. Thread-safe.
 */
final class DynamicBatcher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(DynamicBatcher.class);

    /** What one run did: how many requests it answered and how many rows it ran. */
    interface RunListener {
        void ran(int requests, int rows);
    }

    private final String name;
    private final BatchingSettings settings;
    private final RunListener listener;
    private final ReentrantLock lock = new ReentrantLock();
    /** Requests waiting for a run, oldest first, of every version and shape; guarded by {@link #lock}. */
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    /** Runs in progress or handed to a runner; guarded by {@link #lock}. */
    private int running;
    /** Guarded by {@link #lock}. */
    private boolean closed;
    /** Ends queue-delay waits; null until the first wait; guarded by {@link #lock}. */
    private ScheduledThreadPoolExecutor timer;
    /** When the earliest timer wake-up is due ({@link System#nanoTime}); guarded by {@link #lock}. */
    private long wakeDue;
    /** Guarded by {@link #lock}. */
    private boolean wakeScheduled;
    private final LongAdder ranAtOnce = new LongAdder();
    private final LongAdder ranOnCaller = new LongAdder();
    private final LongAdder queued = new LongAdder();
    private final LongAdder joinedRuns = new LongAdder();

    DynamicBatcher(BatchingSettings settings, RunListener listener) {
        this("model", settings, listener);
    }

    /** @param name the model's name, in the timer thread's name */
    DynamicBatcher(String name, BatchingSettings settings, RunListener listener) {
        this.name = name;
        this.settings = settings;
        this.listener = listener;
    }

    BatchingSettings settings() {
        return settings;
    }

    /** Whether a request of {@code rows} rows on {@code model} goes through the queue (when it must wait). */
    boolean gathers(LoadedModel model, int rows) {
        return settings.enabled() && model.batchable() && rows >= 1 && rows <= settings.maxRows();
    }

    /** Requests that found a slot free and nothing queued, and ran at once (on their caller's thread or runner). */
    long ranAtOnce() {
        return ranAtOnce.sum();
    }

    /** Of {@link #ranAtOnce}, those that ran on their caller's thread. */
    long ranOnCaller() {
        return ranOnCaller.sum();
    }

    /** Requests that waited in the queue for a run. */
    long queued() {
        return queued.sum();
    }

    /** Runs that answered more than one request. */
    long joinedRuns() {
        return joinedRuns.sum();
    }

    /** Requests waiting now. */
    int waiting() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Answers one request on {@code model}, alone or joined with others, on the caller's thread:
     * a request that waits in the queue either gets its answer from another thread's run or is
     * handed its batch and runs it here. The caller holds a reference on {@code model} until this returns.
     */
    Prediction run(LoadedModel model, List<NamedTensor> inputs) {
        int rows = rows(inputs);
        if (!gathers(model, rows)) {
            return model.run(inputs);
        }
        CallerThread caller = new CallerThread();
        return caller.await(submit(model, inputs, rows, caller, true));
    }

    /**
     * Answers one request on {@code model} without waiting for it: the returned future completes
     * with the answer (or the request's failure) on the thread that ran it. When a slot is free and
     * nothing is queued the request runs at once: on the caller's thread, before this returns, when
     * {@code runHereWhenIdle}, else on {@code runner}. Otherwise it queues, and when it is the oldest
     * of a batch, the batch runs on {@code runner}. The caller never blocks beyond taking the
     * queue's lock, and holds a reference on {@code model} until the future completes.
     *
     * @param runner where a batch this request leads runs; it must run every task it accepts
     */
    CompletableFuture<Prediction> submit(LoadedModel model, List<NamedTensor> inputs, Executor runner, boolean runHereWhenIdle) {
        int rows = rows(inputs);
        if (!gathers(model, rows)) {
            return answeredHere(model, inputs);
        }
        return submit(model, inputs, rows, runner, runHereWhenIdle);
    }

    private CompletableFuture<Prediction> submit(LoadedModel model, List<NamedTensor> inputs, int rows, Executor runner,
            boolean runHereWhenIdle) {
        Pending me = new Pending(model, inputs, rows, runner, System.nanoTime());
        boolean afterClose = false;
        boolean atOnce = false;
        List<List<Pending>> ready = null;
        lock.lock();
        try {
            if (closed) {
                // Requests that acquired their model before the close are still answered, here.
                afterClose = true;
            } else if (queue.isEmpty() && running < settings.concurrentRuns() && !mayWaitForMore(rows)) {
                running++;
                atOnce = true;
            } else {
                queue.addLast(me);
                // A slot may be free while the queue waits for a fuller batch; this arrival may fill it.
                ready = takeReady(me.arrived);
            }
        } finally {
            lock.unlock();
        }
        if (afterClose) {
            return answeredHere(model, inputs);
        }
        if (!atOnce) {
            queued.increment();
            handOver(ready);
            return me.answer;
        }
        ranAtOnce.increment();
        List<Pending> alone = List.of(me);
        if (runHereWhenIdle) {
            ranOnCaller.increment();
            runBatch(alone);
        } else {
            handOver(List.of(alone));
        }
        return me.answer;
    }

    private static CompletableFuture<Prediction> answeredHere(LoadedModel model, List<NamedTensor> inputs) {
        try {
            return CompletableFuture.completedFuture(model.run(inputs));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Takes the batches that may run now, counting each as running: while a slot is free, the
     * oldest queued request with every queued request that can join it, unless a queue delay says
     * to wait for more; holds {@link #lock}.
     *
     * @return the batches to hand over, or null when none
     */
    private List<List<Pending>> takeReady(long now) {
        List<List<Pending>> ready = null;
        while (!queue.isEmpty() && running < settings.concurrentRuns()) {
            Pending head = queue.peekFirst();
            long delay = settings.maxQueueDelay().toNanos();
            if (delay > 0 && running > 0 && !closed && joinableRows(head) < settings.maxRows()) {
                long due = head.arrived + delay;
                if (due - now > 0) {
                    wakeAt(due, now);
                    break;
                }
            }
            if (ready == null) {
                ready = new ArrayList<>(1);
            }
            ready.add(take(head));
            running++;
        }
        return ready;
    }

    /**
     * Whether a request of {@code rows} rows that finds a slot free and nothing queued should still
     * wait for company: only with a queue delay, while another run is in progress, and when it does
     * not fill a batch on its own; holds {@link #lock}.
     */
    private boolean mayWaitForMore(int rows) {
        return settings.maxQueueDelay().toNanos() > 0 && running > 0 && rows < settings.maxRows();
    }

    /** Makes sure {@link #takeReady} runs again by {@code due} even if nothing arrives or ends; holds {@link #lock}. */
    private void wakeAt(long due, long now) {
        if (wakeScheduled && wakeDue - due <= 0) {
            return;
        }
        if (timer == null) {
            timer = new ScheduledThreadPoolExecutor(1, task -> {
                Thread thread = new Thread(task, "microkernel-batcher-" + name + "-delay");
                thread.setDaemon(true);
                return thread;
            });
            timer.setRemoveOnCancelPolicy(true);
        }
        wakeScheduled = true;
        wakeDue = due;
        timer.schedule(() -> wake(due), due - now, TimeUnit.NANOSECONDS);
    }

    /** The timer's task: hands over what may run now that a queue delay has passed. */
    private void wake(long due) {
        List<List<Pending>> ready;
        lock.lock();
        try {
            if (wakeScheduled && wakeDue == due) {
                wakeScheduled = false;
            }
            ready = takeReady(System.nanoTime());
        } finally {
            lock.unlock();
        }
        handOver(ready);
    }

    /** Hands each batch to its oldest request's runner; one the runner refuses runs on this thread. */
    private void handOver(List<List<Pending>> batches) {
        if (batches == null) {
            return;
        }
        for (List<Pending> batch : batches) {
            try {
                batch.get(0).runner.execute(() -> runBatch(batch));
            } catch (RuntimeException refused) {
                runBatch(batch);
            }
        }
    }

    /**
     * Runs a batch that holds a slot, frees the slot, hands what queued meanwhile to its runner, and
     * only then answers the batch, so the answers' follow-up work does not hold the next run back.
     */
    private void runBatch(List<Pending> batch) {
        try {
            runTogether(batch);
        } catch (Throwable e) {
            LOG.errorf(e, "a batched run of %s failed outside the model run", name);
        } finally {
            List<List<Pending>> next;
            lock.lock();
            try {
                running--;
                next = takeReady(System.nanoTime());
            } finally {
                lock.unlock();
            }
            try {
                handOver(next);
            } finally {
                batch.forEach(Pending::complete);
            }
        }
    }

    /** Rows the head's batch would hold now; holds {@link #lock}. */
    private int joinableRows(Pending head) {
        int rows = 0;
        for (Pending next : queue) {
            if (next == head || next.joins(head) && rows + next.rows <= settings.maxRows()) {
                rows += next.rows;
            }
        }
        return rows;
    }

    /** Removes {@code head} and the queued requests that can join it from the queue, oldest first; holds {@link #lock}. */
    private List<Pending> take(Pending head) {
        List<Pending> batch = new ArrayList<>();
        int rows = 0;
        for (Iterator<Pending> it = queue.iterator(); it.hasNext(); ) {
            Pending next = it.next();
            if (next == head || next.joins(head) && rows + next.rows <= settings.maxRows()) {
                batch.add(next);
                rows += next.rows;
                it.remove();
            }
        }
        return batch;
    }

    private void runTogether(List<Pending> batch) {
        LoadedModel model = batch.get(0).model;
        int rows = 0;
        for (Pending pending : batch) {
            rows += pending.rows;
        }
        if (batch.size() == 1) {
            batch.get(0).answerAlone();
        } else {
            runJoined(model, batch);
        }
        listener.ran(batch.size(), rows);
    }

    private void runJoined(LoadedModel model, List<Pending> batch) {
        List<Prediction> answers;
        try {
            answers = model.runJoined(batch.stream().map(p -> p.inputs).toList(),
                    batch.stream().mapToInt(p -> p.rows).toArray());
        } catch (RuntimeException joinedFailed) {
            // Which request made the joined run fail is unknown: each gets its own run and its own answer.
            batch.forEach(Pending::answerAlone);
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).prediction = answers.get(i);
        }
        joinedRuns.increment();
    }

    /**
     * Sends later requests to their caller's thread; what is queued runs as slots free, without
     * waiting for a queue delay. Idempotent; does not wait for runs in progress.
     */
    @Override
    public void close() {
        List<List<Pending>> ready;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            ready = takeReady(System.nanoTime());
            if (timer != null) {
                timer.shutdownNow();
            }
        } finally {
            lock.unlock();
        }
        handOver(ready);
    }

    /** Whether the queue-delay timer's thread was started and has not been shut down; for tests. */
    boolean timerRunning() {
        lock.lock();
        try {
            return timer != null && !timer.isShutdown();
        } finally {
            lock.unlock();
        }
    }

    /** The batch size shared by every input, or -1 when they differ or one has no batch dimension. */
    static int rows(List<NamedTensor> inputs) {
        int rows = -1;
        for (NamedTensor input : inputs) {
            Tensor tensor = input.tensor();
            if (tensor.rank() == 0 || rows >= 0 && tensor.dim(0) != rows) {
                return -1;
            }
            rows = (int) tensor.dim(0);
        }
        return rows;
    }

    /**
     * The runner of a caller blocked in {@link #run}: a batch its request leads is handed to the
     * caller's own thread, which runs it and goes on waiting until its own answer is in. Only a
     * request at the head of a batch is handed a task, and only before its answer completes.
     */
    private static final class CallerThread implements Executor {
        private static final Runnable ANSWERED = () -> { };
        private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        /** Runs what it is handed until {@code answer} completes; an interrupt is kept for after, since answers are owed. */
        Prediction await(CompletableFuture<Prediction> answer) {
            answer.whenComplete((prediction, failure) -> tasks.add(ANSWERED));
            boolean interrupted = false;
            try {
                while (!answer.isDone()) {
                    try {
                        tasks.take().run();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                return answer.get();
            } catch (InterruptedException e) {
                // get() on a completed future does not wait, so it is not interrupted.
                throw new IllegalStateException(e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException runtime) {
                    throw runtime;
                }
                if (e.getCause() instanceof Error error) {
                    throw error;
                }
                throw new InferenceFailedException("the batched run failed: " + e.getCause(), e.getCause());
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * One request. Its {@code prediction} and {@code failure} are written by the thread that runs
     * it and read by the same thread in {@link #complete}; the caller only sees {@link #answer}.
     */
    private static final class Pending {
        private final LoadedModel model;
        private final List<NamedTensor> inputs;
        private final int rows;
        private final Executor runner;
        private final long arrived;
        private final CompletableFuture<Prediction> answer = new CompletableFuture<>();
        private Prediction prediction;
        private Throwable failure;

        Pending(LoadedModel model, List<NamedTensor> inputs, int rows, Executor runner, long arrived) {
            this.model = model;
            this.inputs = inputs;
            this.rows = rows;
            this.runner = runner;
            this.arrived = arrived;
        }

        /** Same version, same inputs in the same order, same types and same shapes after the batch dimension. */
        boolean joins(Pending other) {
            if (model != other.model || inputs.size() != other.inputs.size()) {
                return false;
            }
            for (int i = 0; i < inputs.size(); i++) {
                Tensor a = inputs.get(i).tensor();
                Tensor b = other.inputs.get(i).tensor();
                DType type = a.dtype();
                if (!inputs.get(i).name().equals(other.inputs.get(i).name()) || type != b.dtype()
                        || !Arrays.equals(Shapes.withoutBatch(a.shape()), Shapes.withoutBatch(b.shape()))) {
                    return false;
                }
            }
            return true;
        }

        /** Runs this request on its own; {@link #complete} answers it. */
        void answerAlone() {
            try {
                prediction = model.run(inputs);
            } catch (Throwable e) {
                failure = e;
            }
        }

        /** Completes the future; a request that got neither answer nor failure (an Error on its run) fails. */
        void complete() {
            if (failure != null) {
                answer.completeExceptionally(failure);
            } else if (prediction != null) {
                answer.complete(prediction);
            } else {
                answer.completeExceptionally(new InferenceFailedException("version " + model.version()
                        + ": the run that held this request ended without an answer", null));
            }
        }
    }
}
