/**
 * The edges of the service: REST resources for the Open Inference Protocol v2, TF Serving and KServe
 * v1, and the learning routes (samples, rounds, versions), their request and response bodies, the
 * access rule for state-changing calls, and the one place where exceptions become HTTP answers.
 *
 * <p>Belongs here: translation between HTTP and the domain, thin {@code *Resource} classes.
 * Must not be here: ONNX Runtime types (ArchitectureTest checks it), model logic, file I/O.
 */
package io.microkernel.api;
