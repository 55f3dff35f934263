package io.microkernel.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;

/** Every {@code microkernel.*} setting. Sealed after start: values are read once. */
@ConfigMapping(prefix = "microkernel")
public interface MicrokernelConfig {

    /** Where the model store lives (versions, samples, rounds). */
    @WithDefault("data")
    Path dataDir();

    /** {@code cpu} or {@code cuda}. */
    @WithDefault("cpu")
    String device();

    /** The CUDA device ordinal when {@code device=cuda}. */
    @WithDefault("0")
    int deviceId();

    Model model();

    Runtime runtime();

    Serving serving();

    Store store();

    Training training();

    Api api();

    Grpc grpc();

    Feedback feedback();

    Drift drift();

    Fleet fleet();

    /** ONNX Runtime's memory options for serving sessions (the edge profile turns both off). */
    Memory memory();

    interface Model {
        /** The name in {@code /v2/models/{name}} and {@code /v1/models/{name}}. */
        @WithDefault("default")
        String name();

        /** The artifact set version 1 is bootstrapped from when the store is empty. */
        @WithDefault("models/default")
        Path artifacts();
    }

    interface Runtime {
        /** A user's own training-enabled {@code libonnxruntime.so}; the bundled one when unset. */
        Optional<Path> nativeLibrary();
    }

    interface Serving {
        /** ORT intra-op threads per serving session. */
        @WithDefault("1")
        int intraOpThreads();

        /** ORT inter-op threads per serving session. */
        @WithDefault("1")
        int interOpThreads();

        /** Largest batch one inference request may carry. */
        @WithDefault("256")
        int maxBatch();

        /**
         * Request bodies (by declared length) that may be received and worked on at once, over all
         * requests; one more is answered 429 with Retry-After. Bounds the memory bodies can take.
         */
        @WithDefault("32M")
        MemorySize maxBytesInFlight();

        /** The longest a client may take to send a request body; a slower one gets 408 and is disconnected. */
        @WithDefault("30s")
        Duration bodyTimeout();

        /** Dynamic batching of concurrent requests ({@code microkernel.serving.batching.*}). */
        Batching batching();

        /**
         * Concurrent requests for the same version whose inputs have the same row shapes are run as
         * one batch when the model's first dimension is a dynamic batch; a request that finds nothing
         * queued and a run slot free runs at once, and each run takes everything that queued meanwhile.
         */
        interface Batching {
            /** Whether concurrent requests are gathered into one run. */
            @WithDefault("false")
            boolean enabled();

            /** The most rows (instances, over all gathered requests) one run takes; larger requests run alone. */
            @WithDefault("32")
            int maxRows();

            /**
             * How long a free run slot waits for more queued requests to fill its batch, counted from the
             * oldest one's arrival, while other runs are in progress; 0 runs what has queued at once.
             */
            @WithDefault("0ms")
            Duration maxQueueDelay();

            /** Runs of one model at once before requests queue; 0 is the cores divided by the intra-op threads. */
            @WithDefault("0")
            int concurrentRuns();
        }

        /** Running short inference requests on the thread that received them ({@code microkernel.serving.inline.*}). */
        Inline inline();

        /**
         * An OIP v2 request for the active version whose run is expected to be short (by the version's
         * recent runs per row, times the request's rows) runs on the HTTP event loop that received it
         * instead of being handed to a worker thread and back.
         */
        interface Inline {
            /** The longest expected run, in microseconds, that runs on the event loop; 0 sends every request to a worker. */
            @WithDefault("200")
            int maxRunMicros();
        }
    }

    interface Store {
        /** How many versions to keep on disk (the active one is always kept). */
        @WithDefault("5")
        int retain();
    }

    interface Training {
        /** ORT intra-op threads of a training round, so serving keeps its cores. */
        @WithDefault("1")
        int threads();

        @WithDefault("5")
        int epochs();

        @WithDefault("32")
        int batchSize();

        @WithDefault("0.01")
        double learningRate();

        /** Multiplies the learning rate after each epoch (1.0 = constant). */
        @WithDefault("1.0")
        double learningRateDecay();

        /** Share of each minibatch drawn from samples older than the last round. */
        @WithDefault("0.3")
        double replayFraction();

        /** Share of samples held out for the gate, chosen by sample id. */
        @WithDefault("0.2")
        double holdoutFraction();

        /** Start a round by itself once this many new samples arrived (0 = never). */
        @WithDefault("0")
        int minNewSamples();

        /** Start a round by itself this often when there are new samples (unset = never). */
        Optional<Duration> interval();

        Buffer buffer();

        Gate gate();

        /** The frozen-feature cache of rounds ({@code microkernel.training.feature-cache.*}). */
        FeatureCache featureCache();

        interface FeatureCache {
            /** Train on graphs cut at the frozen frontier, with each sample's frozen features computed once. */
            @WithDefault("true")
            boolean enabled();

            /** The most feature bytes kept in memory; beyond it the least recently used go to disk or away. */
            @WithDefault("128M")
            MemorySize maxMemory();

            /** Whether features beyond {@code max-memory} are written to {@code {data-dir}/models/{m}/feature-cache}. */
            @WithDefault("true")
            boolean spill();
        }

        /** How a round's threads yield to serving ({@code microkernel.training.round-priority.*}). */
        RoundPriority roundPriority();

        interface RoundPriority {
            /** Linux nice value of the round's thread and its ORT threads (1-19; 0 = the process's own). */
            @WithDefault("10")
            int nice();

            /**
             * Between units of its work (optimizer steps, holdout batches, the sessions it opens, the
             * export), a round waits while serving has inference requests in flight, at most
             * {@code yield-max-wait} each time. On by default: on a quiet 2-core machine the inference
             * p99 during rounds was 0.78 to 1.25 times the idle p99 with it over three runs, 1.13 to 1.94
             * without it over four (bench/RESULTS.md, {@code bench/run --rounds-only}).
             */
            @WithDefault("true")
            boolean yieldToServing();

            /** The longest a round waits for serving at one point of its work (above 0, at most 1s). */
            @WithDefault("5ms")
            Duration yieldMaxWait();
        }

        Reference reference();

        /** The reference set against forgetting (README, "Closing the loop"). */
        interface Reference {
            /** Score the active version and the candidate on the reference set, when the model has one. */
            @WithDefault("true")
            boolean guard();

            /**
             * How much the candidate may lose on the reference set: accuracy points (0.05 = five
             * percentage points), or the share its MSE may rise.
             */
            @WithDefault("0.05")
            double maxDrop();

            /**
             * Mix the reference samples into the replay pool; each minibatch's replay share is
             * {@code replay-fraction}. On by default, so a round on new-style samples alone does not
             * forget what the reference set holds (and pass the guard).
             */
            @WithDefault("true")
            boolean replay();
        }

        interface Buffer {
            @WithDefault("100000")
            int maxSamples();

            /** What a full buffer's 429 answer tells clients to wait (Retry-After). */
            @WithDefault("30s")
            Duration retryAfter();
        }

        interface Gate {
            /**
             * How much worse than the active version the candidate may be: accuracy may drop by this
             * many points (0.02 = two percentage points); holdout loss and MSE may rise by this share.
             */
            @WithDefault("0.0")
            double maxRegression();

            /** How much better the candidate must be, when set: accuracy points up, or the share MSE falls. */
            OptionalDouble minImprovement();

            /** The largest drop of any class's recall the gate accepts. */
            @WithDefault("0.1")
            double maxClassRecallDrop();
        }
    }

    interface Api {
        /** Bearer token for mutating endpoints from non-loopback clients. */
        Optional<String> token();

        /** Require the token for inference too. */
        @WithDefault("false")
        boolean protectInference();

        /**
         * Let loopback clients mutate without the token. Turn off behind a reverse proxy on the
         * same host, where every client arrives from loopback.
         */
        @WithDefault("true")
        boolean trustLoopback();
    }

    /** The Open Inference Protocol v2 over gRPC ({@code inference.GRPCInferenceService}). */
    interface Grpc {
        /**
         * The port of the gRPC server, apart from the HTTP port; {@code quarkus.grpc.server.port}
         * follows it (application.properties).
         */
        @WithDefault("8081")
        int port();
    }

    /** The prediction log and labels by prediction id (README, "Closing the loop"). */
    interface Feedback {
        /** Keep served inputs by prediction id so {@code POST /v1/models/{m}/feedback} can label them. */
        @WithDefault("false")
        boolean enabled();

        /** How long a prediction can be labelled. */
        @WithDefault("24h")
        Duration retention();

        /** Share of inference requests logged, in (0, 1]. */
        @WithDefault("1.0")
        double samplingRate();

        /** The most predictions kept; the oldest go first. */
        @WithDefault("10000")
        int maxEntries();
    }

    /** The drift watch over served inputs and predictions (README, "Closing the loop"). */
    interface Drift {
        /** Keep running summaries of served inputs and predictions and compare them with the training samples. */
        @WithDefault("false")
        boolean enabled();

        /** The served rows the summaries cover (the most recent ones). */
        @WithDefault("1000")
        int window();

        /** Served rows needed before drift is reported. */
        @WithDefault("100")
        int minRows();

        /** The population stability index above which the traffic counts as drifted. */
        @WithDefault("0.25")
        double threshold();

        /** Start a round when drift passes the threshold and enough new labelled samples are buffered. */
        @WithDefault("false")
        boolean trigger();

        /** New labelled samples (since the last promoted round) a drift round needs. */
        @WithDefault("50")
        int minNewSamples();

        /** How often the trigger is checked besides after each feedback request. */
        @WithDefault("30s")
        Duration checkInterval();
    }

    /**
     * Fleet mode on NATS JetStream (README "Fleet mode"): replicas share samples, one trainer and one
     * active version. Off unless {@code nats-url} is set; the local store is then the only truth.
     */
    interface Fleet {
        /** NATS server URL(s), comma separated ({@code nats://nats:4222}); fleet mode is on when set. */
        Optional<String> natsUrl();

        /** {@code trainer-eligible} (may hold the trainer lease) or {@code serve-only}. */
        @WithDefault("trainer-eligible")
        String role();

        /** This replica's name in the fleet; unset: generated once and kept in the data dir. */
        Optional<String> replicaId();

        /** The trainer lease's time to live; another replica takes over within about 1.3 times this. */
        @WithDefault("6s")
        Duration leaseTtl();

        /** How long a NATS call may take before NATS counts as unreachable (503 with Retry-After). */
        @WithDefault("3s")
        Duration requestTimeout();

        /** How long the sample stream remembers a message id, so a retried request stores nothing twice. */
        @WithDefault("10m")
        Duration duplicateWindow();

        /** The hub's JetStream domain, for a replica connected to a leaf node (edge box); unset elsewhere. */
        Optional<String> jsDomain();
    }

    interface Memory {
        /** Keep freed tensor memory in ORT's CPU arena for reuse; off trades a little speed for a smaller RSS. */
        @WithDefault("true")
        boolean cpuArena();

        /** Let ORT pre-plan allocations per input shape; off saves memory when request shapes vary. */
        @WithDefault("true")
        boolean memoryPattern();
    }
}
