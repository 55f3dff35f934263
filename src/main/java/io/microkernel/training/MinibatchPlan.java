package io.microkernel.training;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The minibatches of one round, fixed up front from a seed so the round can be repeated.
 *
 * <p>Each epoch walks the fresh samples (those no promoted round learned from yet) once, shuffled,
 * and tops every minibatch up with replay samples (older ones) so that the replay share of each
 * minibatch is {@code replayFraction}. Replay keeps classes the new samples lack from being
 * forgotten. With no older samples every minibatch is fresh; with no fresh samples the older ones
 * are trained on as if they were fresh.
 *
 * <p>Immutable once built; safe to share between threads.
 */
final class MinibatchPlan {

    private final List<List<List<Sample>>> epochs;
    private final int freshCount;
    private final int replayCount;

    private MinibatchPlan(List<List<List<Sample>>> epochs, int freshCount, int replayCount) {
        this.epochs = epochs;
        this.freshCount = freshCount;
        this.replayCount = replayCount;
    }

    static MinibatchPlan build(List<Sample> fresh, List<Sample> replay, RoundSettings settings, long seed) {
        List<Sample> primary = fresh.isEmpty() ? replay : fresh;
        List<Sample> secondary = fresh.isEmpty() ? List.of() : replay;
        if (primary.isEmpty()) {
            throw new IllegalArgumentException("expected at least 1 training sample, found 0");
        }
        int batch = settings.batchSize();
        int replayPerBatch = secondary.isEmpty() ? 0
                : (int) Math.min(batch - 1, Math.round(batch * settings.replayFraction()));
        int freshPerBatch = batch - replayPerBatch;
        Random random = new Random(seed);
        List<Sample> order = new ArrayList<>(primary);
        List<Sample> replayOrder = new ArrayList<>(secondary);
        Collections.shuffle(replayOrder, random);
        int replayCursor = 0;
        List<List<List<Sample>>> epochs = new ArrayList<>(settings.epochs());
        for (int e = 0; e < settings.epochs(); e++) {
            Collections.shuffle(order, random);
            List<List<Sample>> batches = new ArrayList<>();
            for (int start = 0; start < order.size(); start += freshPerBatch) {
                List<Sample> minibatch = new ArrayList<>(order.subList(start, Math.min(order.size(), start + freshPerBatch)));
                // A short last batch gets a proportional replay share, so the mix stays the same.
                int wanted = replayPerBatch == 0 ? 0
                        : (int) Math.round((double) minibatch.size() * replayPerBatch / freshPerBatch);
                for (int r = 0; r < wanted; r++) {
                    if (replayCursor == replayOrder.size()) {
                        Collections.shuffle(replayOrder, random);
                        replayCursor = 0;
                    }
                    minibatch.add(replayOrder.get(replayCursor++));
                }
                batches.add(List.copyOf(minibatch));
            }
            epochs.add(List.copyOf(batches));
        }
        return new MinibatchPlan(List.copyOf(epochs), primary.size(), secondary.size());
    }

    int epochCount() {
        return epochs.size();
    }

    /** The minibatches of epoch {@code epoch}, counted from 0. */
    List<List<Sample>> epoch(int epoch) {
        return epochs.get(epoch);
    }

    long totalSteps() {
        return epochs.stream().mapToLong(List::size).sum();
    }

    int freshCount() {
        return freshCount;
    }

    int replayCount() {
        return replayCount;
    }
}
