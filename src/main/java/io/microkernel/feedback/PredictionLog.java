package io.microkernel.feedback;

import io.microkernel.problem.ConfigurationException;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * What was served, by prediction id, for a retention window: the inputs of a sampled share of the
 * requests, the version that answered and what it predicted, so a label that arrives later can
 * become a labelled sample without the client sending the input again.
 *
 * <p><b>Off the request path.</b> {@link #served} only hands the request's input tensors over (they
 * are immutable, so it keeps references and copies nothing) to a bounded queue and returns. One
 * background writer takes what is queued, splits it into rows, encodes it, appends the whole batch
 * to the current segment file with one write, then makes it findable. When the queue is full (the
 * writer fell behind by {@link #QUEUE_CAPACITY} predictions or {@link #QUEUE_BYTES} bytes of inputs)
 * the prediction is dropped and counted ({@link #dropped}), never waited for: inference does not
 * block on the log. A prediction that was not logged cannot receive feedback; its id answers
 * "unknown".
 *
 * <p><b>Durable before findable.</b> {@link #find} answers only from what the writer appended, after
 * waiting for what was queued before the call; so feedback is only ever taken for a prediction
 * whose entry is in the log. Appends are not forced to the device (that would cost a disk flush per
 * batch): a process crash loses what was still queued (the last milliseconds of predictions, none
 * of them acknowledged as samples), a power cut may lose the last seconds. {@link #close} writes
 * everything queued before it. Recovery cuts a torn last record off.
 *
 * <p><b>Bounded.</b> At most {@code maxEntries} predictions are kept (the oldest go first), none older
 * than {@code retention}. Segments are rotated every eighth of the retention window and deleted once
 * all they hold expired.
 *
 * <p><b>Shared.</b> With a {@link Shared} (fleet mode), the writer also hands every record it appended
 * to it, and {@link #find} asks it for an id this log does not hold, so a label posted to any
 * replica finds what another one served.
 *
 * <p>Thread-safe. The segment file belongs to the writer thread; the index of findable predictions
 * is guarded by the log's lock.
 */
public final class PredictionLog implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PredictionLog.class);
    private static final String PREFIX = "predictions-";
    private static final String SUFFIX = ".log";
    /** The most predictions waiting for the writer. */
    static final int QUEUE_CAPACITY = 4096;
    /** The most input bytes waiting for the writer (inputs are referenced, so this is memory held). */
    static final long QUEUE_BYTES = 64L << 20;
    /** The most queued items the writer appends in one write. */
    private static final int BATCH = 256;
    /** How long {@link #find} waits for the writer to catch up before answering from what it has. */
    private static final long FLUSH_WAIT_SECONDS = 10;

    /**
     * @param retention    how long a prediction can be labelled
     * @param samplingRate share of requests logged, in (0, 1]
     * @param maxEntries   the most predictions kept
     */
    public record Settings(Duration retention, double samplingRate, int maxEntries) {
        public Settings {
            if (retention.isNegative() || retention.isZero()) {
                throw new ConfigurationException("microkernel.feedback.retention", "a positive duration", retention);
            }
            if (!(samplingRate > 0 && samplingRate <= 1)) {
                throw new ConfigurationException("microkernel.feedback.sampling-rate", "a share in (0, 1]", samplingRate);
            }
            if (maxEntries < 1) {
                throw new ConfigurationException("microkernel.feedback.max-entries", "at least 1", maxEntries);
            }
        }

        long segmentSpanMillis() {
            return Math.max(1000, retention.toMillis() / 8);
        }
    }

    /**
     * Where logged predictions are also kept for other replicas (fleet mode). Called by the writer
     * thread ({@link #put}) and by {@link #find} callers ({@link #find}).
     */
    public interface Shared {
        /** Offers one appended record (as the log file holds it) to the other replicas; must not block for long. */
        void put(String id, byte[] record);

        /** The record another replica shared under {@code id}; a failure to ask throws (the caller answers 503). */
        Optional<byte[]> find(String id);
    }

    /** What the writer's queue holds. */
    private sealed interface Item permits Served, Flush, Stop {
    }

    /** A request's hand-over: references to its immutable inputs, nothing copied. */
    private record Served(String id, long atMillis, int version, List<NamedTensor> inputs, int[] predicted, long bytes)
            implements Item {
    }

    /** Released once everything queued before it is findable. */
    private record Flush(CountDownLatch done) implements Item {
    }

    private record Stop() implements Item {
    }

    private final Path dir;
    private final Settings settings;
    private final Clock clock;
    private final Optional<Shared> shared;
    private final int queueCapacity;
    private final BlockingQueue<Item> queue;
    private final AtomicLong queuedBytes = new AtomicLong();
    /** Served items handed over and not yet written (or dropped by the writer). */
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong droppedQueueFull = new AtomicLong();
    private final AtomicLong droppedWriteFailed = new AtomicLong();
    private final LinkedHashMap<String, LoggedPrediction> entries = new LinkedHashMap<>();
    private final Thread writer;
    /** Written by the writer thread only. */
    private FileChannel segment;
    private long segmentStart;
    private volatile boolean closed;

    private PredictionLog(Path dir, Settings settings, Clock clock, Optional<Shared> shared, int queueCapacity) {
        this.dir = dir;
        this.settings = settings;
        this.clock = clock;
        this.shared = shared;
        this.queueCapacity = queueCapacity;
        // Slots beyond what served items may take, so close() and find() find room for their markers.
        this.queue = new ArrayBlockingQueue<>(queueCapacity + 64);
        this.writer = new Thread(this::writeLoop, "prediction-log-writer");
        this.writer.setDaemon(true);
    }

    /** Opens (creating) the log in {@code dir}, reads back what is still within the retention window, starts the writer. */
    public static PredictionLog open(Path dir, Settings settings, Clock clock) {
        return open(dir, settings, clock, Optional.empty());
    }

    /** As {@link #open(Path, Settings, Clock)}, sharing every logged prediction through {@code shared}. */
    public static PredictionLog open(Path dir, Settings settings, Clock clock, Optional<Shared> shared) {
        return open(dir, settings, clock, shared, QUEUE_CAPACITY);
    }

    static PredictionLog open(Path dir, Settings settings, Clock clock, Optional<Shared> shared, int queueCapacity) {
        PredictionLog log = new PredictionLog(dir, settings, clock, shared, queueCapacity);
        try {
            Files.createDirectories(dir);
            log.recover();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the prediction log in " + dir + ": " + e.getMessage(), e);
        }
        log.writer.start();
        return log;
    }

    public Settings settings() {
        return settings;
    }

    /** Whether predictions are also shared with other replicas. */
    public boolean isShared() {
        return shared.isPresent();
    }

    /** Whether this request is one the sampling rate keeps; ask before building anything to hand over. */
    public boolean sampled() {
        return settings.samplingRate() >= 1 || ThreadLocalRandom.current().nextDouble() < settings.samplingRate();
    }

    /**
     * Hands a served prediction to the writer and returns at once; a later one with the same id
     * replaces it. Keeps references to {@code inputs} (immutable tensors) and {@code predicted} (which
     * the caller must not change). When the queue is full the prediction is dropped and counted.
     *
     * @param inputs    the request's inputs, batch dimension first
     * @param predicted per batch row the predicted class index; empty for a model that is no classifier
     * @return whether it was queued
     */
    public boolean served(String id, int version, List<NamedTensor> inputs, int[] predicted) {
        if (closed) {
            return false;
        }
        long bytes = 0;
        for (NamedTensor input : inputs) {
            bytes += (long) input.tensor().elementCount() * input.tensor().dtype().byteSize();
        }
        if (queuedBytes.addAndGet(bytes) > QUEUE_BYTES && bytes > 0) {
            queuedBytes.addAndGet(-bytes);
            droppedQueueFull.incrementAndGet();
            return false;
        }
        // Counted before it is queued, so a find() that starts after this returns sees it pending.
        if (pending.incrementAndGet() > queueCapacity
                || !queue.offer(new Served(id, clock.millis(), version, inputs, predicted, bytes))) {
            pending.decrementAndGet();
            queuedBytes.addAndGet(-bytes);
            droppedQueueFull.incrementAndGet();
            return false;
        }
        return true;
    }

    /**
     * The logged prediction with this id, unless unknown, dropped or older than the retention window.
     * Waits first until everything handed over before the call is written.
     */
    public Optional<LoggedPrediction> find(String id) {
        flush();
        return lookup(id);
    }

    /**
     * Waits until every prediction handed over before the call is written and findable (or dropped);
     * returns at once when none is pending.
     */
    public void flush() {
        if (pending.get() == 0 || closed) {
            return;
        }
        Flush marker = new Flush(new CountDownLatch(1));
        try {
            if (!queue.offer(marker, FLUSH_WAIT_SECONDS, TimeUnit.SECONDS)
                    || !marker.done().await(FLUSH_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.warnf("the prediction log's writer did not catch up within %d s; answering from what it wrote",
                        FLUSH_WAIT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Without waiting for the writer: this log's entry for {@code id}, else the shared one's, if within the window. */
    public Optional<LoggedPrediction> lookup(String id) {
        Optional<LoggedPrediction> local = local(id);
        if (local.isPresent() || shared.isEmpty()) {
            return local;
        }
        Optional<byte[]> record = shared.get().find(id);
        if (record.isEmpty()) {
            return Optional.empty();
        }
        try {
            LoggedPrediction found = PredictionCodec.decodeRecord(record.get());
            long cutoff = clock.millis() - settings.retention().toMillis();
            return found.id().equals(id) && found.atMillis() >= cutoff ? Optional.of(found) : Optional.empty();
        } catch (IOException e) {
            LOG.warnf("the fleet's log entry for prediction %s cannot be read: %s", id, e.getMessage());
            return Optional.empty();
        }
    }

    private synchronized Optional<LoggedPrediction> local(String id) {
        expire(clock.millis());
        return Optional.ofNullable(entries.get(id));
    }

    /** Predictions kept now, after the writer caught up. */
    public int size() {
        flush();
        synchronized (this) {
            expire(clock.millis());
            return entries.size();
        }
    }

    /** Predictions dropped since start: the queue was full, or the write failed. */
    public long dropped() {
        return droppedQueueFull.get() + droppedWriteFailed.get();
    }

    /** Predictions dropped since start because the writer had fallen behind. */
    public long droppedQueueFull() {
        return droppedQueueFull.get();
    }

    /** Predictions dropped since start because appending them failed. */
    public long droppedWriteFailed() {
        return droppedWriteFailed.get();
    }

    private void writeLoop() {
        List<Item> batch = new ArrayList<>(BATCH);
        boolean stop = false;
        while (!stop) {
            batch.clear();
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                // close() stops the writer with a Stop item, never by interrupting it.
                continue;
            }
            queue.drainTo(batch, BATCH - 1);
            try {
                stop = writeBatch(batch);
            } catch (RuntimeException | Error e) {
                LOG.errorf(e, "the prediction log's writer failed on a batch of %d", batch.size());
            }
        }
    }

    /** Appends the batch's predictions in one write, makes them findable, shares them, releases flushes. */
    private boolean writeBatch(List<Item> batch) {
        List<LoggedPrediction> logged = new ArrayList<>(batch.size());
        List<byte[]> records = new ArrayList<>(batch.size());
        int served = 0;
        int bytes = 0;
        boolean stop = false;
        for (Item item : batch) {
            if (item instanceof Served s) {
                served++;
                queuedBytes.addAndGet(-s.bytes());
                try {
                    LoggedPrediction prediction = toLogged(s);
                    byte[] record = PredictionCodec.encode(prediction);
                    logged.add(prediction);
                    records.add(record);
                    bytes += record.length;
                } catch (RuntimeException e) {
                    droppedWriteFailed.incrementAndGet();
                    LOG.warnf("cannot log prediction %s: %s", s.id(), e.getMessage());
                }
            } else if (item instanceof Stop) {
                stop = true;
            }
        }
        try {
            if (!logged.isEmpty()) {
                append(records, bytes);
                long now = clock.millis();
                synchronized (this) {
                    for (LoggedPrediction prediction : logged) {
                        keep(prediction, now);
                    }
                }
                shared.ifPresent(s -> share(s, logged, records));
            }
        } catch (IOException e) {
            // The predictions were served; losing their entries only means their labels cannot be taken later.
            droppedWriteFailed.addAndGet(logged.size());
            LOG.warnf("cannot log %d predictions: %s", logged.size(), e.getMessage());
        } finally {
            pending.addAndGet(-served);
            for (Item item : batch) {
                if (item instanceof Flush f) {
                    f.done().countDown();
                }
            }
        }
        return stop;
    }

    private void append(List<byte[]> records, int bytes) throws IOException {
        rotateIfDue(clock.millis());
        ByteBuffer all = ByteBuffer.allocate(bytes);
        for (byte[] record : records) {
            all.put(record);
        }
        all.flip();
        while (all.hasRemaining()) {
            segment.write(all);
        }
    }

    private static void share(Shared shared, List<LoggedPrediction> logged, List<byte[]> records) {
        for (int i = 0; i < logged.size(); i++) {
            try {
                shared.put(logged.get(i).id(), records.get(i));
            } catch (RuntimeException e) {
                LOG.debugf("cannot share prediction %s: %s", logged.get(i).id(), e.getMessage());
            }
        }
    }

    /** Splits the request's inputs into rows (copies, made here rather than on the request thread). */
    private static LoggedPrediction toLogged(Served s) {
        int rows = s.inputs().get(0).tensor().batchSize();
        List<Map<String, Tensor>> perRow = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            Map<String, Tensor> row = new LinkedHashMap<>();
            for (NamedTensor input : s.inputs()) {
                row.put(input.name(), input.tensor().row(r));
            }
            perRow.add(row);
        }
        List<Integer> predicted = new ArrayList<>(s.predicted().length);
        for (int index : s.predicted()) {
            predicted.add(index);
        }
        return new LoggedPrediction(s.id(), s.atMillis(), s.version(), perRow, predicted);
    }

    private void keep(LoggedPrediction prediction, long now) {
        entries.remove(prediction.id());
        entries.put(prediction.id(), prediction);
        while (entries.size() > settings.maxEntries()) {
            Iterator<String> oldest = entries.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
        expire(now);
    }

    private void expire(long now) {
        long cutoff = now - settings.retention().toMillis();
        Iterator<LoggedPrediction> it = entries.values().iterator();
        while (it.hasNext() && it.next().atMillis() < cutoff) {
            it.remove();
        }
    }

    private void rotateIfDue(long now) throws IOException {
        if (segment != null && now - segmentStart < settings.segmentSpanMillis()) {
            return;
        }
        if (segment != null) {
            segment.close();
            segment = null;
        }
        segmentStart = now;
        // Always a new file: appending to an old one could land after a torn record recovery cut off.
        long name = now;
        while (Files.exists(dir.resolve(PREFIX + name + SUFFIX))) {
            name++;
        }
        segment = FileChannel.open(dir.resolve(PREFIX + name + SUFFIX), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        deleteExpiredSegments(now);
    }

    /** A segment whose successor started before the cutoff holds only expired predictions. */
    private void deleteExpiredSegments(long now) throws IOException {
        long cutoff = now - settings.retention().toMillis();
        List<Map.Entry<Long, Path>> segments = segments();
        for (int i = 0; i + 1 < segments.size(); i++) {
            if (segments.get(i + 1).getKey() < cutoff) {
                Files.deleteIfExists(segments.get(i).getValue());
            }
        }
    }

    private List<Map.Entry<Long, Path>> segments() throws IOException {
        List<Map.Entry<Long, Path>> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (name.startsWith(PREFIX) && name.endsWith(SUFFIX)) {
                    try {
                        found.add(Map.entry(Long.parseLong(name.substring(PREFIX.length(),
                                name.length() - SUFFIX.length())), file));
                    } catch (NumberFormatException e) {
                        LOG.debugf("ignoring %s in the prediction log", name);
                    }
                }
            }
        }
        found.sort(Map.Entry.comparingByKey());
        return found;
    }

    private void recover() throws IOException {
        long now = clock.millis();
        deleteExpiredSegments(now);
        int read = 0;
        for (Map.Entry<Long, Path> segmentFile : segments()) {
            for (LoggedPrediction prediction : readSegment(segmentFile.getValue())) {
                keep(prediction, now);
                read++;
            }
        }
        if (read > 0) {
            LOG.infof("prediction log: %d predictions within the retention window of %s", entries.size(),
                    settings.retention());
        }
    }

    /** The complete records of one segment; a torn or corrupt tail is cut off with a log line. */
    private static List<LoggedPrediction> readSegment(Path file) throws IOException {
        byte[] content = Files.readAllBytes(file);
        ByteBuffer buffer = ByteBuffer.wrap(content);
        List<LoggedPrediction> read = new ArrayList<>();
        while (buffer.remaining() >= PredictionCodec.HEADER_BYTES) {
            int start = buffer.position();
            int length = buffer.getInt();
            int crc = buffer.getInt();
            if (length < 0 || length > PredictionCodec.MAX_PAYLOAD_BYTES || length > buffer.remaining()) {
                warnTail(file, start, "a record is cut short");
                return read;
            }
            byte[] payload = new byte[length];
            buffer.get(payload);
            if (!PredictionCodec.checksumMatches(payload, crc)) {
                warnTail(file, start, "a record fails its checksum");
                return read;
            }
            try {
                read.add(PredictionCodec.decode(payload));
            } catch (IOException e) {
                warnTail(file, start, "a record cannot be decoded (" + e.getMessage() + ")");
                return read;
            }
        }
        if (buffer.hasRemaining()) {
            warnTail(file, buffer.position(), "a record header is cut short");
        }
        return read;
    }

    private static void warnTail(Path file, int at, String problem) {
        LOG.warnf("prediction log %s: %s at byte %d; keeping the records before it", file.getFileName(), problem, at);
    }

    /** Writes what was handed over before it, stops the writer and closes the file. Safe to call twice. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            queue.put(new Stop());
            writer.join(TimeUnit.SECONDS.toMillis(FLUSH_WAIT_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            LOG.warnf("the prediction log's writer did not finish within %d s; closing its file", FLUSH_WAIT_SECONDS);
        }
        synchronized (this) {
            if (segment != null) {
                try {
                    segment.close();
                } catch (IOException e) {
                    LOG.debugf("closing the prediction log: %s", e.getMessage());
                }
                segment = null;
            }
        }
    }
}
