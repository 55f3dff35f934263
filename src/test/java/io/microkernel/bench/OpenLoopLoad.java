package io.microkernel.bench;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongPredicate;
import java.util.function.Predicate;

/**
 * Sends requests at a fixed arrival rate, whatever the server does.
 *
 * <p>Each request has an intended start time on a fixed schedule; its latency is measured from that
 * time, not from when it was actually sent. A stalled server therefore shows up in the tail instead
 * of silently slowing the load down (coordinated omission).
 */
final class OpenLoopLoad {

    private OpenLoopLoad() {
    }

    /** What happened to each request of one run, indexed by schedule position. */
    static final class RequestLog {
        final long[] intendedStart;
        final long[] end;
        final boolean[] ok;
        int sent;
        final List<String> firstFailures = new java.util.concurrent.CopyOnWriteArrayList<>();
        final AtomicInteger failures = new AtomicInteger();

        RequestLog(int capacity) {
            intendedStart = new long[capacity];
            end = new long[capacity];
            ok = new boolean[capacity];
        }

        int failed() {
            return failures.get();
        }

        /** Latencies of the successful requests whose intended start passes the filter. */
        Latencies latencies(LongPredicate intendedStartFilter) {
            Latencies latencies = new Latencies();
            for (int i = 0; i < sent; i++) {
                if (ok[i] && intendedStartFilter.test(intendedStart[i])) {
                    latencies.recordNanos(end[i] - intendedStart[i]);
                }
            }
            return latencies;
        }

        /** Latencies of the successful requests whose lifetime overlaps any of the windows. */
        Latencies overlapping(List<long[]> windows, boolean inside) {
            Latencies latencies = new Latencies();
            for (int i = 0; i < sent; i++) {
                if (!ok[i]) {
                    continue;
                }
                boolean overlaps = false;
                for (long[] window : windows) {
                    if (intendedStart[i] <= window[1] && end[i] >= window[0]) {
                        overlaps = true;
                        break;
                    }
                }
                if (overlaps == inside) {
                    latencies.recordNanos(end[i] - intendedStart[i]);
                }
            }
            return latencies;
        }

        /** Latencies of the successful requests that started and ended inside one of the windows. */
        Latencies within(List<long[]> windows) {
            Latencies latencies = new Latencies();
            for (int i = 0; i < sent; i++) {
                if (!ok[i]) {
                    continue;
                }
                for (long[] window : windows) {
                    if (intendedStart[i] >= window[0] && end[i] <= window[1]) {
                        latencies.recordNanos(end[i] - intendedStart[i]);
                        break;
                    }
                }
            }
            return latencies;
        }

        /** The slowest successful request overlapping each window, in milliseconds: one spike or many. */
        List<Double> slowestPerWindow(List<long[]> windows) {
            List<Double> slowest = new java.util.ArrayList<>();
            for (long[] window : windows) {
                long max = 0;
                for (int i = 0; i < sent; i++) {
                    if (ok[i] && intendedStart[i] <= window[1] && end[i] >= window[0]) {
                        max = Math.max(max, end[i] - intendedStart[i]);
                    }
                }
                slowest.add(Latencies.round(max / 1e6));
            }
            return slowest;
        }

        Latencies all() {
            return latencies(t -> true);
        }
    }

    /**
     * Runs {@code ratePerSecond * duration} requests on a fixed schedule and waits for all answers.
     *
     * @param success decides whether an answer counts as a success (status and body)
     */
    static RequestLog run(HttpClient client, HttpRequest request, double ratePerSecond, Duration duration,
            Predicate<HttpResponse<String>> success) throws InterruptedException {
        return run(client, request, ratePerSecond, duration, new AtomicBoolean(), success);
    }

    /**
     * Like {@link #run(HttpClient, HttpRequest, double, Duration, Predicate)}, but stops scheduling
     * as soon as {@code stop} is set, so a phase can last as long as some other work does.
     */
    static RequestLog run(HttpClient client, HttpRequest request, double ratePerSecond, Duration maxDuration,
            AtomicBoolean stop, Predicate<HttpResponse<String>> success) throws InterruptedException {
        int capacity = (int) Math.max(1, Math.round(ratePerSecond * maxDuration.toNanos() / 1e9));
        long intervalNanos = (long) (1e9 / ratePerSecond);
        RequestLog log = new RequestLog(capacity);
        Semaphore answered = new Semaphore(0);
        long scheduleStart = System.nanoTime() + 10_000_000L;
        int scheduled = 0;
        while (scheduled < capacity && !stop.get()) {
            long intended = scheduleStart + scheduled * intervalNanos;
            long wait;
            while ((wait = intended - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            int index = scheduled++;
            log.intendedStart[index] = intended;
            client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
                log.end[index] = System.nanoTime();
                boolean ok = error == null && success.test(response);
                log.ok[index] = ok;
                if (!ok) {
                    log.failures.incrementAndGet();
                    if (log.firstFailures.size() < 5) {
                        log.firstFailures.add(error != null ? error.toString()
                                : response.statusCode() + " " + abbreviate(response.body()));
                    }
                }
                answered.release();
            });
        }
        log.sent = scheduled;
        if (!answered.tryAcquire(scheduled, 60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("requests still unanswered 60 s after the schedule ended");
        }
        return log;
    }

    static String abbreviate(String body) {
        if (body == null) {
            return "";
        }
        String oneLine = body.replace('\n', ' ');
        return oneLine.length() > 200 ? oneLine.substring(0, 200) + "..." : oneLine;
    }
}
