package io.microkernel.bench;

import ai.onnxruntime.OnnxJavaType;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.microkernel.api.grpc.proto.GRPCInferenceServiceGrpc;
import io.microkernel.api.grpc.proto.ModelInferRequest;
import io.microkernel.api.grpc.proto.ModelInferResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * The service's gRPC endpoint ({@code inference.GRPCInferenceService}) as the benchmark uses it:
 * {@code ModelInfer} with {@code raw_input_contents}, the way tritonclient.grpc sends tensors.
 */
final class GrpcInferenceClient implements AutoCloseable {

    private final ManagedChannel channel;
    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;
    private final String model;

    GrpcInferenceClient(String host, int port, String model) {
        this.channel = ManagedChannelBuilder.forAddress(host, port).usePlaintext().maxInboundMessageSize(64 << 20).build();
        this.stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        this.model = model;
    }

    /** A request carrying every input of {@code inputs} as packed little-endian raw contents. */
    ModelInferRequest rawRequest(ModelInputs inputs) {
        ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(model);
        for (ModelInputs.Input input : inputs.inputs()) {
            ModelInferRequest.InferInputTensor.Builder tensor = request.addInputsBuilder()
                    .setName(input.name())
                    .setDatatype(input.oipDatatype());
            for (long dim : input.shape()) {
                tensor.addShape(dim);
            }
            request.addRawInputContents(packed(input));
        }
        return request.build();
    }

    private static ByteString packed(ModelInputs.Input input) {
        boolean floats = input.type() == OnnxJavaType.FLOAT;
        int count = floats ? input.floats().length : input.longs().length;
        ByteBuffer bytes = ByteBuffer.allocate(count * (floats ? 4 : 8)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            if (floats) {
                bytes.putFloat(input.floats()[i]);
            } else {
                bytes.putLong(input.longs()[i]);
            }
        }
        return ByteString.copyFrom(bytes.array());
    }

    /** One inference; a success carries raw output contents, one per output. */
    void infer(ModelInferRequest request) throws IOException {
        ModelInferResponse response = stub.withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(request);
        if (response.getOutputsCount() == 0 || response.getRawOutputContentsCount() != response.getOutputsCount()) {
            throw new IOException("gRPC ModelInfer answered without raw outputs: " + response.getOutputsList());
        }
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
    }
}
