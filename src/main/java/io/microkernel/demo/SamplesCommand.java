package io.microkernel.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * {@code artifacts samples [--style source|target] [--count N] [--seed N]}: prints labelled shape
 * images as the body of {@code POST /v1/models/default/samples}, so the default model can be taught
 * the target style from a shell. Deterministic by seed.
 */
public final class SamplesCommand {

    static final String USAGE = "artifacts samples [--style source|target] [--count N] [--seed N]";

    private SamplesCommand() {
    }

    /** Runs the command; returns the exit code (0 done, 2 wrong command line). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        ShapeImages.Domain style = ShapeImages.Domain.TARGET;
        int count = 200;
        long seed = 1;
        try {
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--style" -> style = ShapeImages.Domain.valueOf(require(args[i], value).toUpperCase(Locale.ROOT));
                    case "--count" -> count = Integer.parseInt(require(args[i], value));
                    case "--seed" -> seed = Long.parseLong(require(args[i], value));
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
                i++;
            }
            if (count < 1 || count > 100_000) {
                throw new IllegalArgumentException("--count expects 1..100000, found " + count);
            }
        } catch (IllegalArgumentException e) {
            err.println("artifacts samples: " + e.getMessage() + "; usage: " + USAGE);
            return 2;
        }
        ShapeImages.Batch batch = ShapeImages.generate(style, count, seed);
        try {
            out.println(new ObjectMapper().writeValueAsString(Map.of("samples", batch.asJsonSamples())));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            err.println("error: " + e.getOriginalMessage());
            return 1;
        }
        return 0;
    }

    private static String require(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " expects a value, found none");
        }
        return value;
    }
}
