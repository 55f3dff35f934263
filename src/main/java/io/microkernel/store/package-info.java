/**
 * Model versions on disk: publish (temp folder, fsync, rename), the atomic {@code ACTIVE} pointer,
 * retention, and recovery to the newest intact version after a crash.
 *
 * <p>Must not be here: ONNX Runtime sessions, HTTP.
 */
package io.microkernel.store;
