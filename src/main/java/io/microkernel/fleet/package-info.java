/**
 * Fleet mode on NATS JetStream: many replicas of one model share one sample stream, elect one
 * trainer through a lease, publish versions to an object store, follow one active-version
 * pointer and keep heartbeats in a replica registry. This package speaks NATS and files only;
 * {@code training} and {@code serving} plug it into the journal, the round scheduler and the
 * served model. Absent (never started) when no
 * {@code microkernel.fleet.nats-url} is configured.
 */
package io.microkernel.fleet;
