package io.microkernel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The service's HTTP contract as the benchmark uses it; one instance per service run. */
final class MicrokernelClient implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String model;
    private final ExecutorService executor;
    private final HttpClient http;

    MicrokernelClient(URI base, String model) {
        this.base = base;
        this.model = model;
        // Completions run here, off the selector thread, so a slow callback never delays other answers.
        this.executor = Executors.newFixedThreadPool(4, runnable -> {
            Thread thread = new Thread(runnable, "bench-http");
            thread.setDaemon(true);
            return thread;
        });
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .executor(executor)
                .build();
    }

    HttpClient http() {
        return http;
    }

    String model() {
        return model;
    }

    HttpRequest inferRequest(String body) {
        return HttpRequest.newBuilder(base.resolve("/v2/models/" + model + "/infer"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    /** An answer counts as an inference success only with status 200 and outputs in the body. */
    static boolean isInferSuccess(HttpResponse<String> response) {
        return response.statusCode() == 200 && response.body().contains("\"outputs\"");
    }

    HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30)).GET().build());
    }

    /** A server-sent event stream, line by line; the caller closes the stream. */
    HttpResponse<java.util.stream.Stream<String>> events(String path, Duration timeout)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofLines());
    }

    JsonNode getJson(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = get(path);
        if (response.statusCode() != 200) {
            throw new IOException("GET " + path + " answered " + response.statusCode() + ": "
                    + OpenLoopLoad.abbreviate(response.body()));
        }
        return JSON.readTree(response.body());
    }

    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path))
                .timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build());
    }

    /** Posts and demands one of the expected statuses; returns the parsed body (empty object if none). */
    JsonNode postExpecting(String path, String json, int... expected) throws IOException, InterruptedException {
        HttpResponse<String> response = post(path, json);
        for (int status : expected) {
            if (response.statusCode() == status) {
                String body = response.body();
                return body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
            }
        }
        throw new IOException("POST " + path + " answered " + response.statusCode() + ": "
                + OpenLoopLoad.abbreviate(response.body()));
    }

    String modelPath(String suffix) {
        return "/v1/models/" + model + suffix;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
