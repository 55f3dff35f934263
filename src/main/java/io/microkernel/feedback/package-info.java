/**
 * Closing the loop on what was served: the prediction log (inputs kept by prediction id for a
 * retention window, opt-in and sampled), the turning of late labels into labelled samples, and the
 * live accuracy of each served version on those labels.
 *
 * <p>Sits above {@code serving} and {@code training}: it observes predictions after they returned and
 * hands samples to the training journal. In fleet mode it shares the log through
 * {@code fleet.FleetPredictions}. Must not be here: anything about HTTP.
 */
package io.microkernel.feedback;
