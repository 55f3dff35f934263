package io.microkernel.api.grpc;

import io.grpc.stub.StreamObserver;
import io.microkernel.api.ModelPaths;
import io.microkernel.api.RequestTensors;
import io.microkernel.api.grpc.proto.GRPCInferenceServiceGrpc;
import io.microkernel.api.grpc.proto.ModelInferRequest;
import io.microkernel.api.grpc.proto.ModelInferResponse;
import io.microkernel.api.grpc.proto.ModelMetadataRequest;
import io.microkernel.api.grpc.proto.ModelMetadataResponse;
import io.microkernel.api.grpc.proto.ModelReadyRequest;
import io.microkernel.api.grpc.proto.ModelReadyResponse;
import io.microkernel.api.grpc.proto.ServerLiveRequest;
import io.microkernel.api.grpc.proto.ServerLiveResponse;
import io.microkernel.api.grpc.proto.ServerMetadataRequest;
import io.microkernel.api.grpc.proto.ServerMetadataResponse;
import io.microkernel.api.grpc.proto.ServerReadyRequest;
import io.microkernel.api.grpc.proto.ServerReadyResponse;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.serving.LoadedModel;
import io.microkernel.serving.ModelNotReadyException;
import io.microkernel.serving.ModelSignature;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.serving.ServedModel;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.TensorSpec;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * KServe's {@code inference.GRPCInferenceService}: the Open Inference Protocol v2 over gRPC, on the
 * gRPC server's own port ({@code microkernel.grpc.port}). Inference goes through
 * {@link ServedModel#predict} with {@link RequestTranslator}, as REST's does, so validation,
 * messages and metrics are the same; failures become statuses in {@link GrpcStatus}. The token rule
 * is {@link GrpcAccessInterceptor}'s. Inputs are read into the request pool's buffers and, with the
 * outputs, given back once the response is built, as REST's are ({@link RequestTensors}).
 *
 * <p>Calls run on worker threads ({@link Blocking}): inference and the store's metadata block.
 */
@GrpcService
@Blocking
public class InferenceGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {

    /** The platform name REST's model metadata gives, too. */
    static final String PLATFORM = "onnxruntime_onnx";
    static final String SERVER_NAME = "onnx-microkernel";

    @Inject
    ModelPaths paths;

    /*
     * Providers, not the beans: the gRPC server creates this service as it starts, and the serving
     * singletons must be made on first use, after the start-up configuration check, as REST's are.
     */
    @Inject
    Provider<ServedModel> served;

    @Inject
    Provider<RequestTranslator> translator;

    @Inject
    Provider<io.microkernel.api.ServedPredictions> predictions;

    /** The pool request inputs are read into, as REST's are; each call gives its tensors back ({@link RequestTensors}). */
    @Inject
    BufferPool buffers;

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> answer) {
        reply(answer, () -> ServerLiveResponse.newBuilder().setLive(true).build());
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> answer) {
        reply(answer, () -> ServerReadyResponse.newBuilder().setReady(served.get().isReady()).build());
    }

    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> answer) {
        reply(answer, () -> {
            ServedModel model = paths.model(request.getName());
            OptionalInt version = version(request.getVersion());
            version.ifPresent(v -> model.store().version(v));
            return ModelReadyResponse.newBuilder().setReady(model.isReady()).build();
        });
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> answer) {
        reply(answer, () -> {
            String version = InferenceGrpcService.class.getPackage().getImplementationVersion();
            return ServerMetadataResponse.newBuilder().setName(SERVER_NAME)
                    .setVersion(version != null ? version : "0.1.0").build();
        });
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> answer) {
        reply(answer, () -> {
            ServedModel model = paths.model(request.getName());
            ModelSignature signature = signature(model, version(request.getVersion()));
            ModelMetadataResponse.Builder metadata = ModelMetadataResponse.newBuilder()
                    .setName(model.name())
                    .setPlatform(PLATFORM);
            model.store().versions().forEach(v -> metadata.addVersions(Integer.toString(v.version())));
            signature.inputs().forEach(spec -> metadata.addInputs(tensorMetadata(spec)));
            signature.outputs().forEach(spec -> metadata.addOutputs(tensorMetadata(spec)));
            return metadata.build();
        });
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> answer) {
        reply(answer, () -> {
            ServedModel model = paths.model(request.getModelName());
            OptionalInt version = version(request.getModelVersion());
            List<String> requested = GrpcTensors.requestedOutputs(request);
            String id = io.microkernel.api.ServedPredictions.id(request.getId());
            RequestTensors tensors = new RequestTensors(predictions.get());
            Prediction prediction = predictions.get().predict(model, version, id, tensors.translatedBy(
                    signature -> translator.get().fromTensors(signature.inputs(), GrpcTensors.inputs(request, buffers))));
            // The response holds copies of the outputs, so the tensors go back to the pool before it is sent.
            return tensors.recycleAfter(prediction, GrpcTensors.response(model.name(), id, prediction, requested,
                    request.getRawInputContentsCount() > 0));
        });
    }

    private static ModelSignature signature(ServedModel model, OptionalInt version) {
        if (version.isEmpty()) {
            return model.signature().orElseThrow(() -> new ModelNotReadyException(
                    "model '" + model.name() + "' is not ready: expected a loaded version, found none"));
        }
        return model.withModel(version, LoadedModel::signature);
    }

    private static ModelMetadataResponse.TensorMetadata tensorMetadata(TensorSpec spec) {
        return ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(spec.name())
                .setDatatype(spec.dtype().oipName())
                .addAllShape(spec.shape())
                .build();
    }

    /**
     * The version a request names: empty for the active one.
     *
     * @throws ProblemException (unknown-version) when the text is no version number
     */
    static OptionalInt version(String text) {
        if (text.isEmpty()) {
            return OptionalInt.empty();
        }
        if (!text.matches("[1-9][0-9]{0,8}")) {
            throw new ProblemException(ProblemType.UNKNOWN_VERSION, "expected a version number such as 1, found '" + text + "'");
        }
        return OptionalInt.of(Integer.parseInt(text));
    }

    /** Answers with what {@code work} returns, or ends the call with the status of what it threw. */
    private static <T> void reply(StreamObserver<T> answer, Supplier<T> work) {
        T result;
        try {
            result = work.get();
        } catch (RuntimeException e) {
            answer.onError(GrpcStatus.of(e));
            return;
        }
        answer.onNext(result);
        answer.onCompleted();
    }
}
