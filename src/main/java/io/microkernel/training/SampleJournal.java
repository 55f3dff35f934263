package io.microkernel.training;

import io.microkernel.store.Durable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.jboss.logging.Logger;

/**
 * The durable buffer of labelled samples of one model: append-only segment files under
 * {@code data/models/{m}/samples/}.
 *
 * <p><b>Durability.</b> {@link #append} returns only after the records are written and forced to
 * disk, so a sample acknowledged to a client survives a crash. Recovery keeps every complete record
 * and cuts a torn last record off (with a log line): a crash can lose only what was never
 * acknowledged.
 *
 * <p><b>Ids and holdout.</b> Ids increase by one per sample and are never reused. Whether a sample
 * is held out for the promotion gate depends on its id alone ({@link #isHoldout(long, double)}), so
 * the split is the same after every restart and for every round.
 *
 * <p><b>Bound.</b> The buffer holds at most {@code maxSamples}. When a new batch would not fit,
 * whole segments that a promoted round has already learned from ({@link #markConsumed}) are
 * retired, oldest first; when that frees too little the batch is refused with
 * {@link SampleBufferFullException}.
 *
 * <p><b>Thread safety.</b> All methods are safe to call from any thread; they are serialised on the
 * journal. {@link #snapshot()} returns an immutable list that stays valid while appends go on.
 */
public final class SampleJournal implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SampleJournal.class);
    private static final String SEGMENT_PREFIX = "segment-";
    private static final String SEGMENT_SUFFIX = ".journal";
    private static final String CONSUMED_FILE = "consumed";

    /**
     * How the journal is bounded and split.
     *
     * @param maxSamples        the most samples the buffer holds
     * @param holdoutFraction   the share of sample ids held out for the gate, in [0, 1)
     * @param segmentMaxSamples records per segment file before a new one is started
     * @param retryAfterSeconds what a full buffer tells clients to wait
     */
    public record Settings(int maxSamples, double holdoutFraction, int segmentMaxSamples, long retryAfterSeconds) {

        public Settings {
            if (maxSamples < 1) {
                throw new IllegalArgumentException("buffer.max-samples must be at least 1, found " + maxSamples);
            }
            if (!(holdoutFraction >= 0.0 && holdoutFraction < 1.0)) {
                throw new IllegalArgumentException("holdout-fraction must be in [0, 1), found " + holdoutFraction);
            }
            if (segmentMaxSamples < 1) {
                throw new IllegalArgumentException("segment size must be at least 1, found " + segmentMaxSamples);
            }
        }

        /** Segments of a quarter of the buffer (at most 4096 records), so retiring one frees a useful share. */
        public static Settings of(int maxSamples, double holdoutFraction) {
            return new Settings(maxSamples, holdoutFraction, Math.max(1, Math.min(4096, maxSamples / 4)), 30);
        }
    }

    /**
     * The buffer at one moment.
     *
     * @param samples         every buffered sample, by increasing id
     * @param consumedThrough the newest id a promoted round learned from; older samples are "replay" samples
     */
    public record Snapshot(List<Sample> samples, long consumedThrough, double holdoutFraction) {

        public Snapshot {
            samples = List.copyOf(samples);
        }

        public List<Sample> holdout() {
            return samples.stream().filter(s -> isHoldout(s.id(), holdoutFraction)).toList();
        }

        public List<Sample> train() {
            return samples.stream().filter(s -> !isHoldout(s.id(), holdoutFraction)).toList();
        }

        /** The newest id in the snapshot, 0 when empty. */
        public long lastId() {
            return samples.isEmpty() ? 0 : samples.get(samples.size() - 1).id();
        }
    }

    private static final class Segment {
        final Path path;
        final long firstId;
        long lastId;
        int count;

        Segment(Path path, long firstId) {
            this.path = path;
            this.firstId = firstId;
            this.lastId = firstId - 1;
        }
    }

    private final Path dir;
    private final Settings settings;
    private final List<Segment> segments = new ArrayList<>();
    private final List<Sample> samples = new ArrayList<>();
    private final TreeMap<Integer, Long> perClass = new TreeMap<>();
    /** Idempotency keys whose samples are buffered, by key; retiring a segment forgets its keys. */
    private final java.util.Map<String, IdempotencyRecord> keys = new java.util.HashMap<>();
    private long holdoutCount;
    private long nextId = 1;
    private long consumedThrough;
    private FileChannel current;
    private boolean closed;

    private final Disk disk;

    private SampleJournal(Path dir, Settings settings, Disk disk) {
        this.dir = dir;
        this.settings = settings;
        this.disk = disk;
    }

    /**
     * How a batch reaches the disk: written whole and forced. A seam, so tests can make the disk
     * fail (a full one, say) where no small filesystem can be mounted.
     */
    interface Disk {
        Disk FILES = (channel, records) -> {
            while (records.hasRemaining()) {
                channel.write(records);
            }
            channel.force(false);
        };

        void write(FileChannel channel, ByteBuffer records) throws IOException;
    }

    /** Opens (and recovers) the journal in {@code dir}, creating the folder when needed. */
    public static SampleJournal open(Path dir, Settings settings) {
        return open(dir, settings, Disk.FILES);
    }

    static SampleJournal open(Path dir, Settings settings, Disk disk) {
        SampleJournal journal = new SampleJournal(dir, settings, disk);
        try {
            Files.createDirectories(dir);
            journal.recover();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the sample journal in " + dir + ": " + e.getMessage(), e);
        }
        return journal;
    }

    /** Whether the sample with this id belongs to the holdout: a fixed hash of the id against the fraction. */
    public static boolean isHoldout(long id, double holdoutFraction) {
        long z = id + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        double unit = (z >>> 11) * 0x1.0p-53;
        return unit < holdoutFraction;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Appends a batch durably and returns the stored samples with their ids.
     *
     * @throws SampleBufferFullException when the batch does not fit and nothing can be retired
     * @throws InvalidSampleException    when the batch is empty or larger than the whole buffer
     * @throws UncheckedIOException      when the disk write fails (nothing of the batch is acknowledged)
     */
    public synchronized List<Sample> append(List<LabelledInput> batch) {
        return append(batch, null).samples();
    }

    /**
     * What an append stored, or for a retried key what the first request with that key stored.
     *
     * @param samples  the batch's samples with their ids
     * @param replayed true when {@code idempotencyKey} was seen before and nothing new was stored
     */
    public record Appended(List<Sample> samples, boolean replayed) {
    }

    /**
     * Appends a batch durably under a client's idempotency key: a key seen before (also before a
     * restart) stores nothing and answers with the first batch's samples. A key is remembered as long
     * as its samples are buffered; it is written after them in the same write and fsync.
     *
     * @param idempotencyKey the client's key, or null for none
     * @throws IdempotencyKeyReusedException when the key was used for different samples
     */
    public synchronized Appended append(List<LabelledInput> batch, String idempotencyKey) {
        ensureOpen();
        byte[] fingerprint = idempotencyKey == null ? null : IdempotencyRecord.fingerprint(batch);
        if (idempotencyKey != null && keys.containsKey(idempotencyKey)) {
            return replay(keys.get(idempotencyKey), fingerprint);
        }
        makeRoom(batch.size());
        long now = System.currentTimeMillis();
        List<Sample> stored = new ArrayList<>(batch.size());
        int bytes = 0;
        List<byte[]> records = new ArrayList<>(batch.size());
        for (LabelledInput input : batch) {
            Sample sample = new Sample(nextId + stored.size(), now, input.inputs(), input.label());
            byte[] record = SampleCodec.encode(sample);
            stored.add(sample);
            records.add(record);
            bytes += record.length;
        }
        IdempotencyRecord keyRecord = idempotencyKey == null ? null
                : new IdempotencyRecord(idempotencyKey, stored.get(0).id(), stored.size(), fingerprint);
        if (keyRecord != null) {
            records.add(keyRecord.encode());
            bytes += records.get(records.size() - 1).length;
        }
        try {
            writeBatch(records, bytes, stored.size(), stored.get(0).id(), stored.get(stored.size() - 1).id());
        } catch (IOException e) {
            nextId += stored.size();
            throw writeFailure(e, bytes);
        }
        nextId += stored.size();
        stored.forEach(this::remember);
        if (keyRecord != null) {
            keys.put(idempotencyKey, keyRecord);
        }
        return new Appended(Collections.unmodifiableList(stored), false);
    }

    /** Writes one batch's records at the end of the current segment in one write, or leaves no part of it. */
    private void writeBatch(List<byte[]> records, int bytes, int samples, long firstId, long lastId) throws IOException {
        Segment segment = segmentFor(samples, firstId);
        ByteBuffer buffer = ByteBuffer.allocate(bytes);
        records.forEach(buffer::put);
        buffer.flip();
        long before = current.size();
        try {
            disk.write(current, buffer);
        } catch (IOException e) {
            // Leave no partial batch behind for recovery to find; the client was not told "accepted".
            tryTruncate(before);
            throw e;
        }
        segment.count += samples;
        segment.lastId = lastId;
    }

    /**
     * Appends samples that already have their ids (fleet mode: the sample stream's sequence numbers),
     * durably, skipping every sample whose id is not above the newest one held: a redelivered message
     * stores nothing twice. Ids may leave gaps.
     *
     * @return how many samples were stored
     * @throws SampleBufferFullException when they do not fit and nothing can be retired
     */
    public synchronized int appendReplicated(List<Sample> batch) {
        ensureOpen();
        List<Sample> fresh = new ArrayList<>(batch.size());
        long last = nextId - 1;
        for (Sample sample : batch) {
            if (sample.id() > last) {
                fresh.add(sample);
                last = sample.id();
            }
        }
        if (fresh.isEmpty()) {
            return 0;
        }
        makeRoom(fresh.size());
        List<byte[]> records = fresh.stream().map(SampleCodec::encode).toList();
        int bytes = records.stream().mapToInt(r -> r.length).sum();
        try {
            writeBatch(records, bytes, fresh.size(), fresh.get(0).id(), last);
        } catch (IOException e) {
            throw writeFailure(e, bytes);
        }
        nextId = last + 1;
        fresh.forEach(this::remember);
        return fresh.size();
    }

    /** Retires learned segments when the batch would not fit; refuses it when that is not enough. */
    private void makeRoom(int batchSize) {
        if (batchSize == 0) {
            throw new InvalidSampleException("expected at least one sample, found 0");
        }
        if (batchSize > settings.maxSamples()) {
            throw new InvalidSampleException("expected at most " + settings.maxSamples()
                    + " samples in one request (the buffer size), found " + batchSize);
        }
        if (samples.size() + batchSize > settings.maxSamples()) {
            retireConsumed(samples.size() + batchSize - settings.maxSamples());
        }
        if (samples.size() + batchSize > settings.maxSamples()) {
            throw new SampleBufferFullException("the sample buffer is full: it holds " + samples.size() + " of "
                    + settings.maxSamples() + " samples and none has been learned by a promoted round yet; "
                    + "expected room for " + batchSize + " more", settings.retryAfterSeconds());
        }
    }

    private Appended replay(IdempotencyRecord first, byte[] fingerprint) {
        if (!first.sameContent(fingerprint)) {
            throw new IdempotencyKeyReusedException("Idempotency-Key '" + first.key() + "' was used for "
                    + first.count() + " other samples (ids " + first.firstId() + ".." + (first.firstId() + first.count() - 1)
                    + "): expected the same samples as the first request, found different ones");
        }
        int from = Collections.binarySearch(samples.stream().map(Sample::id).toList(), first.firstId());
        return new Appended(List.copyOf(samples.subList(from, from + first.count())), true);
    }

    /** Counts of the buffer now. */
    public synchronized SampleStats stats() {
        return new SampleStats(samples.size(), samples.size() - holdoutCount, holdoutCount,
                (SortedMap<Integer, Long>) perClass.clone(), settings.maxSamples(), nextId - 1, consumedThrough);
    }

    /** Every buffered sample now; the list does not change when more arrive. */
    public synchronized Snapshot snapshot() {
        return new Snapshot(samples, consumedThrough, settings.holdoutFraction());
    }

    /** Samples newer than {@code id}. */
    public synchronized long countNewerThan(long id) {
        long n = 0;
        for (int i = samples.size() - 1; i >= 0 && samples.get(i).id() > id; i--) {
            n++;
        }
        return n;
    }

    /**
     * Records that a promoted version learned from every sample up to {@code id}: those become replay
     * samples for later rounds, and their segments may be retired when the buffer fills.
     */
    public synchronized void markConsumed(long id) {
        ensureOpen();
        if (id <= consumedThrough) {
            return;
        }
        try {
            Durable.replace(dir.resolve(CONSUMED_FILE),
                    (id + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record consumed samples in " + dir + ": " + e.getMessage(), e);
        }
        consumedThrough = id;
    }

    /** The newest id held or ever given out (0 before any): ids above it are new to this journal. */
    public synchronized long lastId() {
        return nextId - 1;
    }

    public synchronized long consumedThrough() {
        return consumedThrough;
    }

    /** Closes the open segment; safe to call twice. */
    @Override
    public synchronized void close() {
        closed = true;
        if (current != null) {
            try {
                current.close();
            } catch (IOException e) {
                LOG.warnf("closing the sample journal in %s: %s", dir, e.getMessage());
            }
            current = null;
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the sample journal in " + dir + " is closed");
        }
    }

    private void remember(Sample sample) {
        samples.add(sample);
        if (isHoldout(sample.id(), settings.holdoutFraction())) {
            holdoutCount++;
        }
        if (sample.label() instanceof SampleLabel.ClassIndex c) {
            perClass.merge(c.index(), 1L, Long::sum);
        }
    }

    private void forget(Sample sample) {
        if (isHoldout(sample.id(), settings.holdoutFraction())) {
            holdoutCount--;
        }
        if (sample.label() instanceof SampleLabel.ClassIndex c) {
            perClass.computeIfPresent(c.index(), (k, v) -> v == 1 ? null : v - 1);
        }
    }

    /** The segment the next batch goes to, starting a new file when the current one is full. */
    private Segment segmentFor(int batchSize, long firstId) throws IOException {
        Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
        if (last != null && current != null
                && (last.count == 0 || last.count + batchSize <= settings.segmentMaxSamples())) {
            return last;
        }
        if (current != null) {
            current.close();
            current = null;
        }
        Segment segment = new Segment(dir.resolve(segmentName(firstId)), firstId);
        current = FileChannel.open(segment.path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        // Known before the folder is forced, so a failure there cannot leave writes going to an unlisted file.
        segments.add(segment);
        Durable.fsync(dir);
        return segment;
    }

    private static String segmentName(long firstId) {
        return String.format("%s%016d%s", SEGMENT_PREFIX, firstId, SEGMENT_SUFFIX);
    }

    /** Deletes the oldest fully consumed segments (never the one being written) until {@code needed} samples are freed. */
    private void retireConsumed(long needed) {
        long freed = 0;
        while (freed < needed && segments.size() > 1) {
            Segment oldest = segments.get(0);
            if (oldest.lastId > consumedThrough) {
                break;
            }
            try {
                Files.deleteIfExists(oldest.path);
            } catch (IOException e) {
                LOG.warnf("cannot retire sample segment %s: %s", oldest.path, e.getMessage());
                break;
            }
            segments.remove(0);
            int removed = 0;
            while (removed < samples.size() && samples.get(removed).id() <= oldest.lastId) {
                forget(samples.get(removed));
                removed++;
            }
            samples.subList(0, removed).clear();
            keys.values().removeIf(k -> k.firstId() <= oldest.lastId);
            freed += removed;
            LOG.infof("retired sample segment %s (%d samples already learned by a promoted round)",
                    oldest.path.getFileName(), removed);
        }
        if (freed > 0) {
            try {
                Durable.fsync(dir);
            } catch (IOException e) {
                // The segments held only learned samples: should a crash bring one back, recovery
                // reads it again as consumed, which costs buffer room and nothing else.
                LOG.warnf("cannot record retired sample segments in %s: %s", dir, e.getMessage());
            }
        }
    }

    /**
     * A full disk (or quota) is the client's 507 to retry later, logged in one line; anything else
     * stays a failure of the server. Either way nothing of the batch was acknowledged.
     */
    private RuntimeException writeFailure(IOException e, int bytes) {
        if (isStorageFull(e)) {
            LOG.warnf("the sample journal in %s is out of disk space: %s", dir, e.getMessage());
            return new StorageFullException("cannot store the samples: expected room for " + bytes
                    + " bytes on the data disk, found it full (" + e.getMessage() + "); nothing was stored, retry once"
                    + " space is freed", settings.retryAfterSeconds(), e);
        }
        return new UncheckedIOException("cannot write the sample journal in " + dir + ": " + e.getMessage(), e);
    }

    private boolean isStorageFull(IOException e) {
        String message = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (message.contains("no space left") || message.contains("disk quota exceeded")) {
            return true;
        }
        try {
            return Files.getFileStore(dir).getUsableSpace() == 0;
        } catch (IOException unknown) {
            return false;
        }
    }

    private void tryTruncate(long size) {
        try {
            current.truncate(size);
            current.force(false);
        } catch (IOException e) {
            // Appending after a partial record would hide every later one from recovery: start a new segment.
            LOG.warnf("cannot cut a failed write off the sample journal in %s: %s", dir, e.getMessage());
            try {
                current.close();
            } catch (IOException ignored) {
                // Closing a channel whose writes failed: nothing more to lose.
            }
            current = null;
        }
    }

    private void recover() throws IOException {
        Path consumed = dir.resolve(CONSUMED_FILE);
        if (Files.exists(consumed)) {
            String text = Files.readString(consumed, StandardCharsets.US_ASCII).trim();
            try {
                consumedThrough = Long.parseLong(text);
            } catch (NumberFormatException e) {
                LOG.warnf("ignoring %s: expected a sample id, found '%s'", consumed, text);
            }
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> {
                String name = p.getFileName().toString();
                return name.startsWith(SEGMENT_PREFIX) && name.endsWith(SEGMENT_SUFFIX);
            }).sorted().toList();
        }
        long lastId = 0;
        for (Path file : files) {
            String name = file.getFileName().toString();
            long firstId;
            try {
                firstId = Long.parseLong(name.substring(SEGMENT_PREFIX.length(), name.length() - SEGMENT_SUFFIX.length()));
            } catch (NumberFormatException e) {
                LOG.warnf("ignoring %s: not a journal segment name", file);
                continue;
            }
            Segment segment = new Segment(file, firstId);
            for (Sample sample : readSegment(file, keys)) {
                if (sample.id() <= lastId) {
                    LOG.warnf("ignoring sample %d in %s: ids must increase, the previous one was %d",
                            sample.id(), file.getFileName(), lastId);
                    continue;
                }
                remember(sample);
                segment.count++;
                segment.lastId = sample.id();
                lastId = sample.id();
            }
            segments.add(segment);
        }
        nextId = Math.max(lastId, consumedThrough) + 1;
        if (!segments.isEmpty()) {
            current = FileChannel.open(segments.get(segments.size() - 1).path, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        }
        if (!samples.isEmpty()) {
            LOG.infof("sample journal %s: %d samples recovered (ids %d..%d)", dir, samples.size(),
                    samples.get(0).id(), lastId);
        }
    }

    /** Reads the complete records of one segment, cutting off a torn or corrupt tail. */
    private static List<Sample> readSegment(Path file, java.util.Map<String, IdempotencyRecord> keys)
            throws IOException {
        List<Sample> read = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = channel.size();
            long position = 0;
            String problem = null;
            while (position < size) {
                if (size - position < SampleCodec.HEADER_BYTES) {
                    problem = "a record header is cut short";
                    break;
                }
                ByteBuffer header = ByteBuffer.allocate(SampleCodec.HEADER_BYTES);
                readFully(channel, header, position);
                header.flip();
                int magic = header.getInt();
                int length = header.getInt();
                int crc = header.getInt();
                if (magic != SampleCodec.MAGIC && magic != IdempotencyRecord.MAGIC) {
                    problem = "expected a record marker, found garbage";
                    break;
                }
                if (length < 0 || length > SampleCodec.MAX_PAYLOAD_BYTES
                        || length > size - position - SampleCodec.HEADER_BYTES) {
                    problem = "a record of " + length + " bytes is cut short";
                    break;
                }
                ByteBuffer payload = ByteBuffer.allocate(length);
                readFully(channel, payload, position + SampleCodec.HEADER_BYTES);
                CRC32 check = new CRC32();
                check.update(payload.array());
                if ((int) check.getValue() != crc) {
                    problem = "a record fails its checksum";
                    break;
                }
                try {
                    if (magic == IdempotencyRecord.MAGIC) {
                        IdempotencyRecord key = IdempotencyRecord.decode(payload.array());
                        keys.put(key.key(), key);
                    } else {
                        read.add(SampleCodec.decodePayload(payload.array()));
                    }
                } catch (IOException | IllegalArgumentException e) {
                    problem = "a record cannot be decoded (" + e.getMessage() + ")";
                    break;
                }
                position += SampleCodec.HEADER_BYTES + length;
            }
            if (problem != null) {
                LOG.warnf("sample journal %s: %s at byte %d; keeping the %d complete records before it and "
                        + "dropping the last %d bytes (a write the crash interrupted was never acknowledged)",
                        file, problem, position, read.size(), size - position);
                channel.truncate(position);
                channel.force(true);
            }
        }
        return read;
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            at += n;
        }
    }
}
