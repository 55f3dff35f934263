package io.microkernel.api;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.serving.ArtifactBootstrap;
import io.microkernel.serving.ModelLoader;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.serving.ServedModel;
import io.microkernel.serving.ServingMetrics;
import io.microkernel.serving.SessionSettings;
import io.microkernel.store.ModelStore;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.TensorSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.ws.rs.core.Response;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Heap bytes and direct buffers one OIP v2 inference allocates on the thread that serves it, for a
 * JSON and a binary request on {@code models/default}, without and with the request buffer pool
 * and cheap response ids, measured side by side in one JVM. Each request goes through the calls
 * {@link InferenceResource} makes for it (read the body, translate against the signature, predict,
 * write the answer, recycle the inputs); HTTP itself (Vert.x, RESTEasy) is not in the figure.
 *
 * <p>"before" reads into buffers of their own and makes ids with {@code UUID.randomUUID()}, as the
 * service did; "after" is what it does now. Heap bytes are the thread's own count
 * ({@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}), exact and repeatable;
 * input allocations are the direct buffers the request tensors allocated (the pool counts them; a reused one is none).
 *
 * <p>Run: {@code ./mvnw -B -o -q dependency:build-classpath -Dmdep.outputFile=target/test-cp.txt}, then
 * {@code java -cp target/classes:target/test-classes:$(cat target/test-cp.txt) io.microkernel.api.AllocationPerRequest
 * [--requests N] [--rounds N] [--only before|after]}.
 */
final class AllocationPerRequest {

    private record Variant(String name, BufferPool buffers, Supplier<String> ids) {
    }

    private record Body(String kind, byte[] bytes, String headerLength, String contentType) {
    }

    private record Figure(long heapBytes, long directBuffers, long nanos) {
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private AllocationPerRequest() {
    }

    public static void main(String[] args) throws Exception {
        int requests = 20_000;
        int rounds = 5;
        String only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--requests" -> requests = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--only" -> only = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; expected --requests N, --rounds N, --only before|after");
            }
        }
        Path work = Files.createTempDirectory("allocation-per-request");
        ModelStore store = ModelStore.open(work.resolve("store"), 3);
        ArtifactBootstrap.bootstrap(store, Path.of("models", "default"), OrtRuntime.bundled().environment());
        try (ServedModel served = new ServedModel("default", store,
                new ModelLoader(() -> OrtRuntime.bundled().environment(), SessionSettings.cpu(1, 1)),
                new ServingMetrics(new SimpleMeterRegistry(), "default"))) {
            served.start();
            TensorSpec input = served.signature().orElseThrow().inputs().get(0);
            List<Body> bodies = List.of(jsonBody(input), binaryBody(input));
            List<Variant> variants = new ArrayList<>();
            if (only == null || only.equals("before")) {
                variants.add(new Variant("before", new BufferPool(0, 0), () -> UUID.randomUUID().toString()));
            }
            if (only == null || only.equals("after")) {
                variants.add(new Variant("after", new BufferPool(RequestBuffers.MAX_IDLE_BYTES, RequestBuffers.LARGEST_BUFFER),
                        ResponseIds.PROCESS::next));
            }
            JsonMapper json = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
            RequestTranslator translator = new RequestTranslator(256);
            // Every variant and body once, for the compiler, then measured rounds taking turns; each figure is its best round's.
            Figure[][] best = new Figure[variants.size()][bodies.size()];
            for (int round = -1; round < rounds; round++) {
                for (int v = 0; v < variants.size(); v++) {
                    for (int b = 0; b < bodies.size(); b++) {
                        Figure figure = measure(served, json, translator, variants.get(v), bodies.get(b),
                                round < 0 ? requests / 2 : requests);
                        if (round >= 0) {
                            Figure was = best[v][b];
                            best[v][b] = was == null ? figure : new Figure(Math.min(was.heapBytes(), figure.heapBytes()),
                                    Math.min(was.directBuffers(), figure.directBuffers()), Math.min(was.nanos(), figure.nanos()));
                        }
                    }
                }
            }
            System.out.printf(Locale.ROOT, "%nallocation per OIP v2 infer request on models/default (input %s %s),"
                    + " %d requests x %d rounds, each figure its best round%n", input.dtype().oipName(), input.shapeText(), requests, rounds);
            System.out.printf(Locale.ROOT, "%-8s %-7s %14s %16s %12s%n", "body", "variant", "heap B/request",
                    "input allocs/req", "us/request");
            for (int b = 0; b < bodies.size(); b++) {
                for (int v = 0; v < variants.size(); v++) {
                    Figure f = best[v][b];
                    System.out.printf(Locale.ROOT, "%-8s %-7s %14.0f %16.3f %12.2f%n", bodies.get(b).kind(), variants.get(v).name(),
                            (double) f.heapBytes() / requests, (double) f.directBuffers() / requests, f.nanos() / 1e3 / requests);
                }
            }
        }
    }

    private static Figure measure(ServedModel served, JsonMapper json, RequestTranslator translator, Variant variant, Body body,
            int requests) throws Exception {
        long allocatedBefore = variant.buffers().allocated();
        long heapBefore = THREADS.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        int ok = 0;
        for (int i = 0; i < requests; i++) {
            ok += answer(served, json, translator, variant, body).getStatus() == 200 ? 1 : 0;
        }
        long nanos = System.nanoTime() - start;
        long heap = THREADS.getCurrentThreadAllocatedBytes() - heapBefore;
        if (ok != requests) {
            throw new IllegalStateException("expected " + requests + " answers of 200, found " + ok);
        }
        return new Figure(heap, variant.buffers().allocated() - allocatedBefore, nanos);
    }

    /** What {@link InferenceResource} does for one request that runs where it arrived. */
    private static Response answer(ServedModel served, JsonMapper json, RequestTranslator translator, Variant variant, Body body)
            throws Exception {
        Oip.InferRequest request = BinaryTensors.read(json, body.bytes(), body.headerLength(), body.contentType(), variant.buffers());
        String id = request.id() == null ? variant.ids().get() : request.id();
        List<List<NamedTensor>> translated = new ArrayList<>(1);
        Prediction prediction = served.predict(OptionalInt.empty(), signature -> {
            List<NamedTensor> inputs = translator.fromTensors(signature.inputs(), request.tensorInputs());
            translated.add(inputs);
            return inputs;
        });
        Response response = BinaryTensors.write(json, Oip.InferResponse.of(served.name(), request, prediction, id));
        for (NamedTensor input : translated.get(0)) {
            input.tensor().recycle();
        }
        return response;
    }

    private static float[] values(TensorSpec input) {
        long[] shape = concrete(input);
        float[] values = new float[Shapes.elementCountInt(shape)];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble();
        }
        return values;
    }

    private static long[] concrete(TensorSpec input) {
        return input.shape().stream().mapToLong(d -> d == null || d < 0 ? 1 : d).toArray();
    }

    private static Body jsonBody(TensorSpec input) {
        StringBuilder text = new StringBuilder("{\"inputs\":[{\"name\":\"").append(input.name()).append("\",\"shape\":")
                .append(Shapes.toList(concrete(input))).append(",\"datatype\":\"FP32\",\"data\":[");
        float[] values = values(input);
        for (int i = 0; i < values.length; i++) {
            text.append(i == 0 ? "" : ",").append(values[i]);
        }
        text.append("]}]}");
        return new Body("json", text.toString().getBytes(StandardCharsets.UTF_8), null, "application/json");
    }

    private static Body binaryBody(TensorSpec input) {
        float[] values = values(input);
        byte[] header = ("{\"inputs\":[{\"name\":\"" + input.name() + "\",\"shape\":" + Shapes.toList(concrete(input))
                + ",\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":" + 4 * values.length + "}}],"
                + "\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":true}}]}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer bytes = ByteBuffer.allocate(header.length + 4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.put(header);
        for (float v : values) {
            bytes.putFloat(v);
        }
        return new Body("binary", bytes.array(), Integer.toString(header.length), "application/octet-stream");
    }
}
