package io.microkernel.training;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A point-in-time view of the sample buffer.
 *
 * @param total          samples in the buffer
 * @param train          samples in the training split
 * @param holdout        samples held out for the gate
 * @param perClass       samples per class index (cross-entropy models; empty for MSE)
 * @param capacity       the most samples the buffer holds
 * @param lastId         the newest sample id, 0 when none ever arrived
 * @param consumedThrough the newest id a promoted round has learned from (0 when none)
 */
public record SampleStats(long total, long train, long holdout, SortedMap<Integer, Long> perClass, long capacity,
        long lastId, long consumedThrough) {

    public SampleStats {
        perClass = Collections.unmodifiableSortedMap(new TreeMap<>(perClass));
    }
}
