/**
 * Learning: the durable sample journal, the label domain, round scheduling, one training round
 * (steps, holdout evaluation, promotion gate) and its records, and the training metrics.
 *
 * <p>Must not be here: anything about HTTP, the building of artifact sets ({@code compiler}).
 */
package io.microkernel.training;
