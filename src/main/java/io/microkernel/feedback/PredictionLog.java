package io.microkernel.feedback;

import io.microkernel.problem.ConfigurationException;
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
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * What was served, by prediction id, for a retention window: the inputs of a sampled share of the
 * requests, the version that answered and what it predicted, so a label that arrives later can
 * become a labelled sample without the client sending the input again.
 *
 * <p><b>Bounded.</b> At most {@code maxEntries} predictions are kept (the oldest go first), none older
 * than {@code retention}.
 *
 * <p><b>Durable across restarts.</b> Each prediction is appended to a segment file under the model's
 * folder before {@link #record} returns; segments are rotated every eighth of the retention window
 * and deleted once all they hold expired. Appends are not forced to the device (that would cost a
 * disk flush per prediction): a process restart keeps everything, a power cut may lose the last
 * seconds. Recovery cuts a torn last record off.
 *
 * <p>Thread-safe: every method holds the log's lock; appends are short writes to the page cache.
 */
public final class PredictionLog implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PredictionLog.class);
    private static final String PREFIX = "predictions-";
    private static final String SUFFIX = ".log";

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

    private final Path dir;
    private final Settings settings;
    private final Clock clock;
    private final LinkedHashMap<String, LoggedPrediction> entries = new LinkedHashMap<>();
    private FileChannel segment;
    private long segmentStart;
    private boolean closed;

    private PredictionLog(Path dir, Settings settings, Clock clock) {
        this.dir = dir;
        this.settings = settings;
        this.clock = clock;
    }

    /** Opens (creating) the log in {@code dir} and reads back what is still within the retention window. */
    public static PredictionLog open(Path dir, Settings settings, Clock clock) {
        PredictionLog log = new PredictionLog(dir, settings, clock);
        try {
            Files.createDirectories(dir);
            log.recover();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the prediction log in " + dir + ": " + e.getMessage(), e);
        }
        return log;
    }

    public Settings settings() {
        return settings;
    }

    /** Whether this request is one the sampling rate keeps. */
    public boolean sampled() {
        return settings.samplingRate() >= 1 || ThreadLocalRandom.current().nextDouble() < settings.samplingRate();
    }

    /** Keeps a prediction; a later one with the same id replaces it. */
    public synchronized void record(LoggedPrediction prediction) {
        if (closed) {
            return;
        }
        long now = clock.millis();
        try {
            rotateIfDue(now);
            ByteBuffer bytes = ByteBuffer.wrap(PredictionCodec.encode(prediction));
            while (bytes.hasRemaining()) {
                segment.write(bytes);
            }
        } catch (IOException e) {
            // The prediction was served; losing its log entry only means its label cannot be taken later.
            LOG.warnf("cannot log prediction %s: %s", prediction.id(), e.getMessage());
            return;
        }
        keep(prediction, now);
    }

    /** The logged prediction with this id, unless unknown or older than the retention window. */
    public synchronized Optional<LoggedPrediction> find(String id) {
        expire(clock.millis());
        return Optional.ofNullable(entries.get(id));
    }

    /** Predictions kept now. */
    public synchronized int size() {
        expire(clock.millis());
        return entries.size();
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

    /** Safe to call twice. */
    @Override
    public synchronized void close() {
        closed = true;
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
