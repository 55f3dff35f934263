package io.microkernel.bench;

import com.fasterxml.jackson.databind.SerializationFeature;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/** The three outputs of a run: the printed table, {@code results.json} and the chart. */
final class ResultsReport {

    /** The rows of the table: key in a model's figures, and how the row reads. */
    private static final List<String[]> ROWS = List.of(
            new String[] {"inference_http_over_inprocess_p50", "HTTP / in-process p50, concurrency 1"},
            new String[] {"inference_http_over_inprocess_p99", "HTTP / in-process p99, concurrency 1"},
            new String[] {"latencies.inprocess_concurrency1.p50_ms", "  in-process p50 ms"},
            new String[] {"latencies.http_concurrency1.p50_ms", "  HTTP p50 ms"},
            new String[] {"http_overhead_p50_ms", "  HTTP overhead p50 ms"},
            new String[] {"http_floor_p50_ms", "  GET /v2/health/live p50 ms (HTTP floor)"},
            new String[] {"latencies.inprocess_concurrency1.p99_ms", "  in-process p99 ms"},
            new String[] {"latencies.http_concurrency1.p99_ms", "  HTTP p99 ms"},
            new String[] {"inference_grpc_over_inprocess_p50", "gRPC / in-process p50, batch 32"},
            new String[] {"inference_http_batch32_over_inprocess_p50", "HTTP / in-process p50, batch 32"},
            new String[] {"latencies.inprocess_batch32.p50_ms", "  in-process p50 ms, batch 32"},
            new String[] {"latencies.grpc_batch32.p50_ms", "  gRPC (raw contents) p50 ms, batch 32"},
            new String[] {"latencies.http_batch32.p50_ms", "  HTTP (JSON) p50 ms, batch 32"},
            new String[] {"http_saturation_rps", "HTTP throughput at saturation, req/s"},
            new String[] {"inprocess_saturation_rps", "in-process throughput at saturation, runs/s"},
            new String[] {"http_over_inprocess_throughput", "HTTP / in-process throughput at saturation"},
            new String[] {"batching_throughput_gain", "batching on / off, HTTP saturation throughput"},
            new String[] {"batching.saturation_rps_off", "  batching off, req/s"},
            new String[] {"batching.saturation_rps_on", "  batching on, req/s"},
            new String[] {"batching.requests_per_run_on", "  requests per run, batching on"},
            new String[] {"batching.requests_per_run_on_saturated", "  requests per run, batching on, saturated"},
            new String[] {"batching.inprocess_batch8_over_batch1_rows_per_s", "  in-process rows/s, batch 8 / batch 1"},
            new String[] {"batching_p50_concurrency1_on_over_off", "batching on / off, p50 at concurrency 1"},
            new String[] {"open_loop_rate_rps", "open-loop arrival rate, req/s"},
            new String[] {"latencies.steady_open_loop.p99_ms", "steady open-loop p99 ms (separate phase)"},
            new String[] {"swaps", "swaps under load"},
            new String[] {"swap_failed_requests", "failed requests across the swaps"},
            new String[] {"swap_p99_over_steady_p99", "p99 in swap windows / steady p99"},
            new String[] {"latencies.during_swaps.p99_ms", "  p99 in swap windows ms"},
            new String[] {"latencies.quiet_between_swap_blocks.p99_ms", "  p99 in quiet blocks between ms"},
            new String[] {"swap_time_p50_ms", "swap time (activate call) p50 ms"},
            new String[] {"swap_time_max_ms", "swap time (activate call) max ms"},
            new String[] {"train_samples_per_s", "training round, samples/s (whole round)"},
            new String[] {"train_phase_samples_per_s", "  round's training phase only, samples/s"},
            new String[] {"backbone_share.inprocess_train_samples_per_s", "train steps in-process, samples/s"},
            new String[] {"backbone_share.backbone_share_of_train_step", "backbone forward / full train step"},
            new String[] {"backbone_share.backbone_forward_median_ms", "  backbone forward ms (train batch)"},
            new String[] {"backbone_share.train_step_median_ms", "  train step ms (train batch)"},
            new String[] {"cached_round_speedup", "10-epoch round, training phase, cached / full graph"},
            new String[] {"cached_round.cached_train_phase_samples_per_s", "  with the feature cache, samples/s"},
            new String[] {"cached_round.full_graph_train_phase_samples_per_s", "  on the full graph, samples/s"},
            new String[] {"infer_p99_during_round_over_idle", "p99 during rounds / idle p99"},
            new String[] {"latencies.during_rounds.p99_ms", "  p99 during rounds ms"},
            new String[] {"latencies.quiet_between_round_blocks.p99_ms", "  p99 in quiet blocks between ms"},
            new String[] {"rss_growth_mb_per_10k_requests", "RSS growth, MB per 10k requests (after GC)"},
            new String[] {"rss.after_warmup_after_full_gc_mb", "  RSS after warm-up MB (after full GC)"},
            new String[] {"rss.after_requests_1_after_full_gc_mb", "  RSS after +10k requests MB"},
            new String[] {"rss.after_requests_2_after_full_gc_mb", "  RSS after +20k requests MB"},
            new String[] {"rss.after_requests_3_after_full_gc_mb", "  RSS after +30k requests MB"},
            new String[] {"rss.after_rounds_after_full_gc_mb", "  RSS after 50 rounds with swaps MB"},
            new String[] {"rss_growth_mb_per_round", "RSS growth over the rounds, MB per round"},
            new String[] {"rss.slope_mb_per_10k_requests", "  request slope without forcing GC, MB/10k"},
            new String[] {"prediction_log_overhead_p50", "prediction log on / off, inference p50"},
            new String[] {"drift_watch_overhead_p50", "drift watch on / off, inference p50"},
            new String[] {"loop_overhead_latencies.off.p50_ms", "  p50 ms, both off"},
            new String[] {"startup_to_first_inference_ms", "start-up to first inference ms"},
            new String[] {"rss_mb_idle", "RSS idle after start-up MB"});

    /** The keys results.json carries at its top level, taken from the default model's figures. */
    static final List<String> HEADLINE_KEYS = List.of(
            "inference_http_over_inprocess_p50", "inference_http_over_inprocess_p99", "inference_grpc_over_inprocess_p50",
            "swap_failed_requests",
            "swap_p99_over_steady_p99", "train_samples_per_s", "infer_p99_during_round_over_idle",
            "cached_round_speedup",
            "rss_growth_mb_per_10k_requests", "startup_to_first_inference_ms", "rss_mb_idle",
            "http_over_inprocess_throughput", "batching_throughput_gain");

    /** The fleet phase's keys results.json carries at its top level ({@link FleetConvergence}). */
    static final List<String> FLEET_KEYS = List.of(
            "fleet_convergence_ms", "fleet_swap_p99_over_steady_p99", "fleet_failed_requests");

    private ResultsReport() {
    }

    static String table(Map<String, Map<String, Object>> models) {
        StringBuilder table = new StringBuilder();
        table.append(String.format("| %-46s |", "figure"));
        models.keySet().forEach(model -> table.append(String.format(" %14s |", model)));
        table.append('\n').append("|").append("-".repeat(48)).append("|");
        models.keySet().forEach(model -> table.append("-".repeat(16)).append("|"));
        table.append('\n');
        for (String[] row : ROWS) {
            table.append(String.format("| %-46s |", row[1]));
            for (Map<String, Object> figures : models.values()) {
                Object value = lookup(figures, row[0]);
                table.append(String.format(" %14s |", value == null ? "-" : value));
            }
            table.append('\n');
        }
        return table.toString();
    }

    /** Follows a dotted path through nested maps. */
    @SuppressWarnings("unchecked")
    static Object lookup(Map<String, Object> figures, String path) {
        Object current = figures;
        for (String part : path.split("\\.")) {
            if (!(current instanceof Map<?, ?> map)) {
                return null;
            }
            current = ((Map<String, Object>) map).get(part);
        }
        return current;
    }

    static Map<String, Object> results(Map<String, Object> context, Map<String, Map<String, Object>> models) {
        Map<String, Object> results = new LinkedHashMap<>();
        Map<String, Object> headline = models.get("default");
        // A run of no model's phases (--models edge or fleet) has no headline figures to carry.
        if (!models.isEmpty()) {
            for (String key : HEADLINE_KEYS) {
                results.put(key, headline == null ? null : headline.get(key));
            }
        }
        results.putAll(context);
        results.put("models", models);
        return results;
    }

    static void writeJson(Map<String, Object> results, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        MicrokernelClient.JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), results);
    }

    /** One bar chart per model, stacked: p50 and p99 of every latency phase. */
    static void writeChart(Map<String, Map<String, Object>> models, Path file) throws IOException {
        int width = 1400;
        int height = 420;
        BufferedImage image = new BufferedImage(width, height * models.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D canvas = image.createGraphics();
        canvas.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        int row = 0;
        for (Map.Entry<String, Map<String, Object>> model : models.entrySet()) {
            DefaultCategoryDataset dataset = new DefaultCategoryDataset();
            String[][] phases = {
                    {"inprocess_concurrency1", "in-process, c=1"},
                    {"http_concurrency1", "HTTP, c=1"},
                    {"steady_open_loop", "steady, open loop"},
                    {"quiet_between_swap_blocks", "quiet, swap phase"},
                    {"during_swaps", "swap windows"},
                    {"quiet_between_round_blocks", "quiet, round phase"},
                    {"during_rounds", "during rounds"}};
            for (String[] phase : phases) {
                for (String percentile : new String[] {"p50_ms", "p99_ms"}) {
                    Object value = lookup(model.getValue(), "latencies." + phase[0] + "." + percentile);
                    if (value instanceof Number number) {
                        dataset.addValue(number.doubleValue(), percentile.replace("_ms", ""), phase[1]);
                    }
                }
            }
            JFreeChart chart = ChartFactory.createBarChart(
                    "Inference latency, model '" + model.getKey() + "' (ms, lower is better)",
                    null, "milliseconds", dataset, PlotOrientation.VERTICAL, true, false, false);
            chart.getTitle().setFont(new Font("DejaVu Sans", Font.BOLD, 16));
            chart.setBackgroundPaint(Color.WHITE);
            CategoryPlot plot = chart.getCategoryPlot();
            plot.setBackgroundPaint(Color.WHITE);
            plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
            BarRenderer renderer = (BarRenderer) plot.getRenderer();
            renderer.setBarPainter(new StandardBarPainter());
            renderer.setShadowVisible(false);
            renderer.setSeriesPaint(0, new Color(0x4C72B0));
            renderer.setSeriesPaint(1, new Color(0xDD8452));
            chart.draw(canvas, new java.awt.geom.Rectangle2D.Double(0, row * height, width, height));
            row++;
        }
        canvas.dispose();
        Files.createDirectories(file.toAbsolutePath().getParent());
        ImageIO.write(image, "png", file.toFile());
    }
}
