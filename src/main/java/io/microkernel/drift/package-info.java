/**
 * The drift watch: running summaries of what is served (per input, the distribution of each row's
 * mean value; the predicted classes; the confidence), compared by population stability index with the
 * same summaries over the samples the active version was trained on, and the trigger that starts a
 * round when the traffic drifted and enough new labelled samples are buffered.
 *
 * <p>Sits above {@code serving} and {@code training}. Must not be here: anything about HTTP.
 */
package io.microkernel.drift;
