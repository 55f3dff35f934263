/**
 * The frozen-feature cache: what a model's frozen part computes per sample, kept in bounded memory
 * and spilled to the data dir, keyed by sample and by a hash of the frozen part, so rounds train the
 * trainable part without running the frozen backbone again for every epoch.
 */
package io.microkernel.training.features;
