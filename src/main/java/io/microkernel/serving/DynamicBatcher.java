package io.microkernel.serving;

import io.microkernel.tensor.DType;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Dynamic batching: requests that arrive while every run slot is busy wait in one queue, and the
 * oldest of them, once a slot frees (or its {@link BatchingSettings#maxQueueDelay} has passed), runs
 * itself together with every queued request of the same version and row shapes, up to
 * {@link BatchingSettings#maxRows} rows, as one ORT run; each request gets exactly its own rows back.
 *
 * <p>A request that finds a slot free and nothing queued runs at once on its own thread: a lone
 * request is never delayed. Requests of different versions or row shapes are never joined (the key
 * holds the {@link LoadedModel} itself, so a swap starts new batches). When a joined run fails,
 * each of its requests runs again on its own, so one bad request does not fail the others. Models
 * without a dynamic first dimension on every input and output, and requests of more than
 * {@code maxRows} rows, always run alone and take no slot.
 *
 * <p>No thread of its own: the queued request that leads runs the batch on its thread, the others
 * wait for their answer. Thread-safe.
 */
final class DynamicBatcher {

    /** What one run did: how many requests it answered and how many rows it ran. */
    interface RunListener {
        void ran(int requests, int rows);
    }

    private final BatchingSettings settings;
    private final RunListener listener;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever a slot frees, the queue's head changes or answers are ready. */
    private final Condition changed = lock.newCondition();
    /** Requests waiting for a run, oldest first, of every version and shape; guarded by {@link #lock}. */
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    /** Runs in progress; guarded by {@link #lock}. */
    private int running;
    private final LongAdder ranAtOnce = new LongAdder();
    private final LongAdder queued = new LongAdder();
    private final LongAdder joinedRuns = new LongAdder();

    DynamicBatcher(BatchingSettings settings, RunListener listener) {
        this.settings = settings;
        this.listener = listener;
    }

    BatchingSettings settings() {
        return settings;
    }

    /** Requests that found a slot free and nothing queued, and ran at once. */
    long ranAtOnce() {
        return ranAtOnce.sum();
    }

    /** Requests that waited in the queue. */
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
     * Answers one request on {@code model}, alone or joined with others. The caller holds a
     * reference on {@code model} until this returns.
     */
    Prediction run(LoadedModel model, List<NamedTensor> inputs) {
        int rows = rows(inputs);
        if (!settings.enabled() || !model.batchable() || rows < 1 || rows > settings.maxRows()) {
            return model.run(inputs);
        }
        Pending me = new Pending(model, inputs, rows, System.nanoTime() + settings.maxQueueDelay().toNanos());
        lock.lock();
        try {
            if (queue.isEmpty() && running < settings.concurrentRuns()) {
                running++;
                me.waits = false;
            } else {
                queue.addLast(me);
            }
        } finally {
            lock.unlock();
        }
        if (!me.waits) {
            ranAtOnce.increment();
            try {
                Prediction answer = model.run(inputs);
                listener.ran(1, rows);
                return answer;
            } finally {
                finished();
            }
        }
        queued.increment();
        List<Pending> batch = awaitTurn(me);
        if (batch != null) {
            try {
                runTogether(model, batch);
            } finally {
                finished();
            }
        }
        return me.answer();
    }

    /** The batch this request leads, or null once another request's run has answered it. */
    private List<Pending> awaitTurn(Pending me) {
        boolean interrupted = false;
        lock.lock();
        try {
            while (true) {
                if (me.done) {
                    return null;
                }
                if (queue.peekFirst() == me) {
                    long left = me.deadline - System.nanoTime();
                    if (running < settings.concurrentRuns() || left <= 0) {
                        running++;
                        List<Pending> batch = take(me);
                        changed.signalAll();
                        return batch;
                    }
                    try {
                        changed.awaitNanos(left);
                    } catch (InterruptedException e) {
                        // The answer is still owed; keep waiting and hand the interrupt back after.
                        interrupted = true;
                    }
                } else {
                    changed.awaitUninterruptibly();
                }
            }
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Removes {@code head} and the queued requests that can join it from the queue, oldest first. */
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

    private void runTogether(LoadedModel model, List<Pending> batch) {
        int rows = batch.stream().mapToInt(p -> p.rows).sum();
        try {
            if (batch.size() == 1) {
                batch.get(0).answerAlone(model);
            } else {
                runJoined(model, batch);
            }
            listener.ran(batch.size(), rows);
        } finally {
            lock.lock();
            try {
                batch.forEach(Pending::settle);
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void runJoined(LoadedModel model, List<Pending> batch) {
        try {
            List<Prediction> answers = model.runJoined(batch.stream().map(p -> p.inputs).toList(),
                    batch.stream().mapToInt(p -> p.rows).toArray());
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).answer = answers.get(i);
            }
            joinedRuns.increment();
        } catch (RuntimeException joinedFailed) {
            // Which request made the joined run fail is unknown: each gets its own run and its own answer.
            batch.forEach(p -> p.answerAlone(model));
        }
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

    /** The batch size shared by every input, or -1 when they differ or one has no batch dimension. */
    private static int rows(List<NamedTensor> inputs) {
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

    /** One request in the queue; its answer fields are written by the run that answers it, read after {@code done}. */
    private static final class Pending {
        private final LoadedModel model;
        private final List<NamedTensor> inputs;
        private final int rows;
        private final long deadline;
        private boolean waits = true;
        /** Guarded by the batcher's lock. */
        private boolean done;
        private Prediction answer;
        private RuntimeException failure;

        Pending(LoadedModel model, List<NamedTensor> inputs, int rows, long deadline) {
            this.model = model;
            this.inputs = inputs;
            this.rows = rows;
            this.deadline = deadline;
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
                        || !java.util.Arrays.equals(Shapes.withoutBatch(a.shape()), Shapes.withoutBatch(b.shape()))) {
                    return false;
                }
            }
            return true;
        }

        void answerAlone(LoadedModel on) {
            try {
                answer = on.run(inputs);
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        /** Marks the request answered; one that got neither answer nor failure (an Error on the run) fails. */
        void settle() {
            if (answer == null && failure == null) {
                failure = new InferenceFailedException("version " + model.version() + ": the run that held this request"
                        + " ended without an answer", null);
            }
            done = true;
        }

        Prediction answer() {
            if (failure != null) {
                throw failure;
            }
            return answer;
        }
    }
}
