/**
 * The Open Inference Protocol v2 over gRPC: KServe's {@code inference.GRPCInferenceService}
 * ({@code src/main/proto/grpc_predict_v2.proto}, stubs generated into
 * {@code io.microkernel.api.grpc.proto}) on its own port, {@code microkernel.grpc.port}.
 *
 * <p>Belongs here: translation between protobuf messages and the domain ({@link
 * io.microkernel.api.grpc.GrpcTensors}), the service itself, the token rule on gRPC metadata and
 * the one place where failures become gRPC statuses ({@link io.microkernel.api.grpc.GrpcStatus}).
 * Validation is the REST path's ({@code serving.RequestTranslator} through
 * {@code serving.ServedModel.predict}), so both protocols accept and refuse the same requests
 * with the same messages. Must not be here: ONNX Runtime types, model logic.
 */
package io.microkernel.api.grpc;
