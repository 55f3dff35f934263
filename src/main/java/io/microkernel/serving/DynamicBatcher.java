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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;

/**
 * Dynamic batching: a request that arrives while every run slot is busy (or while others wait)
 * joins one queue, and each time a run slot frees, one of the batcher's dispatcher threads takes the
 * oldest queued request together with every queued request of the same version and row shapes, up
 * to {@link BatchingSettings#maxRows} rows, and runs them as one ORT run; each request gets exactly
 * its own rows back. So a request alone runs at once, and under load batches form by themselves:
 * everything that queued during one run goes into the next.
 *
 * <p>A request that finds a slot free and nothing queued runs on its own thread when its caller
 * allows it ({@link #submit}); otherwise a dispatcher runs it at once. With a
 * {@link BatchingSettings#maxQueueDelay} above zero, a free dispatcher whose batch is not full waits
 * up to that long (counted from the oldest queued request's arrival) for more requests, but only
 * while other runs of the model are in progress, so a lone request is still never delayed.
 *
 * <p>Requests of different versions or row shapes are never joined (the key holds the
 * {@link LoadedModel} itself, so a swap starts new batches). When a joined run fails, each of its
 * requests runs again on its own, so one bad request does not fail the others. Models without a
 * dynamic first dimension on every input and output, and requests of more than {@code maxRows}
 * rows, always run alone on the caller's thread and take no slot.
 *
 * <p>The batcher owns its dispatcher threads ({@link BatchingSettings#concurrentRuns} of them,
 * started with the first queued request, daemon), and stops them in {@link #close} once the queue is
 * empty. A queued request's caller holds its reference on the model until the request's future
 * completes. Thread-safe.
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
    /** Signalled whenever a request is queued, a slot frees or the batcher closes. */
    private final Condition changed = lock.newCondition();
    /** Requests waiting for a run, oldest first, of every version and shape; guarded by {@link #lock}. */
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    /** Runs in progress, on callers' threads and on dispatchers; guarded by {@link #lock}. */
    private int running;
    /** Guarded by {@link #lock}. */
    private boolean dispatchersStarted;
    /** Guarded by {@link #lock}. */
    private boolean closed;
    private final List<Thread> dispatchers = new ArrayList<>();
    private final LongAdder ranAtOnce = new LongAdder();
    private final LongAdder queued = new LongAdder();
    private final LongAdder joinedRuns = new LongAdder();

    DynamicBatcher(BatchingSettings settings, RunListener listener) {
        this("model", settings, listener);
    }

    /** @param name the model's name, in the dispatcher threads' names */
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

    /** Requests that found a slot free and nothing queued, and ran at once on their caller's thread. */
    long ranAtOnce() {
        return ranAtOnce.sum();
    }

    /** Requests that went through the queue to a dispatcher. */
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
     * Answers one request on {@code model}, alone or joined with others, waiting for the answer on
     * the caller's thread. The caller holds a reference on {@code model} until this returns.
     */
    Prediction run(LoadedModel model, List<NamedTensor> inputs) {
        int rows = rows(inputs);
        if (!gathers(model, rows)) {
            return model.run(inputs);
        }
        return await(submit(model, inputs, rows, true));
    }

    /**
     * Answers one request on {@code model} without waiting for it: the returned future completes
     * with the answer (or the request's failure) on the thread that ran it. When a slot is free,
     * nothing is queued and {@code runHereWhenIdle} is true, the request runs on the caller's
     * thread before this returns; otherwise the caller never blocks beyond taking the queue's lock.
     * The caller holds a reference on {@code model} until the future completes.
     */
    CompletableFuture<Prediction> submit(LoadedModel model, List<NamedTensor> inputs, boolean runHereWhenIdle) {
        int rows = rows(inputs);
        if (!gathers(model, rows)) {
            return answeredHere(model, inputs);
        }
        return submit(model, inputs, rows, runHereWhenIdle);
    }

    private CompletableFuture<Prediction> submit(LoadedModel model, List<NamedTensor> inputs, int rows, boolean runHereWhenIdle) {
        Pending me = new Pending(model, inputs, rows, System.nanoTime());
        boolean runHere = false;
        boolean afterClose = false;
        lock.lock();
        try {
            if (closed) {
                // Requests that acquired their model before the close are still answered, here.
                afterClose = true;
            } else if (runHereWhenIdle && queue.isEmpty() && running < settings.concurrentRuns()) {
                running++;
                runHere = true;
            } else {
                queue.addLast(me);
                startDispatchers();
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (afterClose) {
            return answeredHere(model, inputs);
        }
        if (!runHere) {
            queued.increment();
            return me.answer;
        }
        ranAtOnce.increment();
        try {
            me.answerAlone();
            listener.ran(1, rows);
        } finally {
            finished();
            me.complete();
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

    /** Starts the dispatchers with the first queued request; the caller holds {@link #lock}. */
    private void startDispatchers() {
        if (dispatchersStarted) {
            return;
        }
        dispatchersStarted = true;
        for (int i = 0; i < settings.concurrentRuns(); i++) {
            Thread thread = new Thread(this::dispatch, "microkernel-batcher-" + name + "-" + i);
            thread.setDaemon(true);
            dispatchers.add(thread);
            thread.start();
        }
    }

    /** A dispatcher's loop: take the next batch when a slot is free, run it, answer it; until closed and drained. */
    private void dispatch() {
        while (true) {
            List<Pending> batch;
            lock.lock();
            try {
                batch = nextBatch();
                if (batch == null) {
                    return;
                }
                running++;
            } finally {
                lock.unlock();
            }
            try {
                runTogether(batch);
            } catch (Throwable e) {
                LOG.errorf(e, "a batched run of %s failed outside the model run", name);
            } finally {
                finished();
                // Answered after the slot is free, so the answers' follow-up work does not hold a run back.
                batch.forEach(Pending::complete);
            }
        }
    }

    /** Waits until a batch may run and takes it, or returns null once closed with nothing queued; holds {@link #lock}. */
    private List<Pending> nextBatch() {
        while (true) {
            if (queue.isEmpty()) {
                if (closed) {
                    return null;
                }
                changed.awaitUninterruptibly();
                continue;
            }
            if (running >= settings.concurrentRuns()) {
                changed.awaitUninterruptibly();
                continue;
            }
            Pending head = queue.peekFirst();
            long delay = settings.maxQueueDelay().toNanos();
            if (delay > 0 && running > 0 && !closed && joinableRows(head) < settings.maxRows()) {
                long left = head.arrived + delay - System.nanoTime();
                if (left > 0) {
                    try {
                        changed.awaitNanos(left);
                    } catch (InterruptedException e) {
                        // Nothing interrupts a dispatcher (close() signals instead); the loop re-checks either way.
                    }
                    continue;
                }
            }
            return take(head);
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
        int rows = batch.stream().mapToInt(p -> p.rows).sum();
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

    private void finished() {
        lock.lock();
        try {
            running--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the dispatchers once every queued request is answered; later requests run on their
     * caller's thread. Idempotent; does not wait for the dispatchers.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The dispatcher threads started so far; for tests. */
    List<Thread> dispatchers() {
        lock.lock();
        try {
            return List.copyOf(dispatchers);
        } finally {
            lock.unlock();
        }
    }

    /** Waits for a queued request's answer; an interrupt is kept for after, since the answer is owed. */
    private static Prediction await(CompletableFuture<Prediction> answer) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return answer.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException runtime) {
                        throw runtime;
                    }
                    if (e.getCause() instanceof Error error) {
                        throw error;
                    }
                    throw new InferenceFailedException("the batched run failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
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
     * One request. Its {@code prediction} and {@code failure} are written by the thread that runs
     * it and read by the same thread in {@link #complete}; the caller only sees {@link #answer}.
     */
    private static final class Pending {
        private final LoadedModel model;
        private final List<NamedTensor> inputs;
        private final int rows;
        private final long arrived;
        private final CompletableFuture<Prediction> answer = new CompletableFuture<>();
        private Prediction prediction;
        private Throwable failure;

        Pending(LoadedModel model, List<NamedTensor> inputs, int rows, long arrived) {
            this.model = model;
            this.inputs = inputs;
            this.rows = rows;
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
