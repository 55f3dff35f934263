package io.microkernel.training;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A labelled set the gate scores the active version and the candidate on, so a candidate that forgets
 * what the active version knew is refused (and that rounds may replay into training). Immutable.
 *
 * @param samples its samples (ids are negative, so they never mix with journal ids)
 * @param source  where it came from: {@code artifact set} or {@code uploaded}
 */
public record ReferenceSet(List<Sample> samples, String source) {

    public ReferenceSet {
        samples = List.copyOf(samples);
    }

    public int size() {
        return samples.size();
    }

    /** Samples per class index, for a classification set. */
    public Map<Integer, Long> perClass() {
        Map<Integer, Long> counts = new TreeMap<>();
        for (Sample sample : samples) {
            if (sample.label() instanceof SampleLabel.ClassIndex c) {
                counts.merge(c.index(), 1L, Long::sum);
            }
        }
        return counts;
    }
}
