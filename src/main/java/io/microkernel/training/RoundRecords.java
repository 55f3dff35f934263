package io.microkernel.training;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.microkernel.store.Durable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * The round history of one model: one JSON file per round under {@code data/models/{m}/rounds/},
 * each replaced atomically (temp file, fsync, rename), so a crash leaves the old record or the new
 * one, never half of one.
 *
 * <p>Opening the history marks every round that was still queued or running as failed with the
 * cause "process stopped during the round": only a crash or a kill leaves one behind.
 *
 * <p>Memory is bounded, however long the history: it holds the newest {@value #DEFAULT_WINDOW}
 * rounds (the window), and beyond it only rounds still queued or running and rounds whose latest
 * state could not be written to disk (one at a time trains, so these are few). Older rounds are read from their files when a page, a lookup or a search
 * asks for them. Round ids only grow, so every id above the newest one ever dropped from memory is
 * in memory; below it the files are the truth, overlaid by what memory still holds.
 *
 * <p>Progress (epoch, step, loss) changes many times a second; {@link #update} keeps it in memory
 * and tells listeners, while {@link #save} also writes the file. Thread-safe: methods hold the
 * instance's lock, except that listeners are called after it is released and {@link #page} reads
 * old rounds' files without it.
 */
public final class RoundRecords {

    /** The cause recorded on a round that was queued or running when the process stopped. */
    public static final String INTERRUPTED_CAUSE = "process stopped during the round";

    /**
     * Rounds kept in memory besides the open ones: the console, the triggers and the first default
     * page of {@code GET /rounds} (100) read the newest rounds, so they never touch the disk. A
     * finished record is a few kilobytes, so the window stays around a megabyte.
     */
    public static final int DEFAULT_WINDOW = 256;

    private static final String PREFIX = "round-";
    private static final String SUFFIX = ".json";
    private static final Logger LOG = Logger.getLogger(RoundRecords.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final int window;
    /** The window, the open rounds and the unsaved ones, by id. */
    private final TreeMap<Long, RoundRecord> recent = new TreeMap<>();
    /** Ids whose record in memory is newer than its file: never dropped from memory. */
    private final Set<Long> unsaved = new HashSet<>();
    private final List<Consumer<RoundRecord>> listeners = new CopyOnWriteArrayList<>();
    /** The newest id ever dropped from memory: every id above it that exists is in {@link #recent}. */
    private long droppedThrough;
    private long lastId;
    private long stored;
    /** The newest round whose record has sample counts (it got as far as training). */
    private RoundRecord newestTrained;

    private RoundRecords(Path dir, int window) {
        if (window < 1) {
            throw new IllegalArgumentException("window: expected at least 1 round, found " + window);
        }
        this.dir = dir;
        this.window = window;
    }

    /** Reads the history in {@code dir} (created when missing) and fails rounds a stopped process left open. */
    public static RoundRecords open(Path dir) {
        return open(dir, DEFAULT_WINDOW);
    }

    /** As {@link #open(Path)}, keeping {@code window} finished rounds in memory besides the open ones. */
    static RoundRecords open(Path dir, int window) {
        RoundRecords records = new RoundRecords(dir, window);
        try {
            Files.createDirectories(dir);
            records.load();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the round history in " + dir + ": " + e.getMessage(), e);
        }
        return records;
    }

    /** The next round id; ids are never reused, also across restarts. */
    public synchronized long nextId() {
        return ++lastId;
    }

    /** Stores the record durably and tells listeners. */
    public void save(RoundRecord record) {
        synchronized (this) {
            Path file = fileOf(record.id());
            boolean fresh = !Files.exists(file);
            try {
                Durable.replace(file, JSON.writeValueAsBytes(record));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write round " + record.id() + " to " + dir + ": "
                        + e.getMessage(), e);
            }
            if (fresh) {
                stored++;
            }
            unsaved.remove(record.id());
            remember(record);
        }
        notifyListeners(record);
    }

    /** Keeps the record in memory only (progress updates) and tells listeners. */
    public void update(RoundRecord record) {
        synchronized (this) {
            unsaved.add(record.id());
            remember(record);
        }
        notifyListeners(record);
    }

    /**
     * Up to {@code limit} rounds with ids above {@code after}, oldest first; one more tells whether more
     * follow. Rounds older than the window are read from their files, outside the lock so a long page
     * never holds up a running round's progress; an unreadable file is skipped.
     */
    public List<RoundRecord> page(long after, int limit) {
        List<RoundRecord> page = new ArrayList<>(Math.min(limit, 1024));
        long from = after;
        while (page.size() < limit) {
            List<Long> ids;
            List<RoundRecord> held = new ArrayList<>();
            synchronized (this) {
                if (from >= droppedThrough) {
                    // Everything above droppedThrough is in memory.
                    for (RoundRecord record : recent.tailMap(from, false).values()) {
                        if (page.size() >= limit) {
                            break;
                        }
                        page.add(record);
                    }
                    return page;
                }
                // Older than the window: the next ids on disk (and any of them memory still holds).
                ids = storedIds(from, droppedThrough + 1, limit - page.size(), true);
                if (ids.isEmpty()) {
                    from = droppedThrough;
                    continue;
                }
                ids.forEach(id -> held.add(recent.get(id)));
            }
            for (int i = 0; i < ids.size(); i++) {
                Optional<RoundRecord> record = held.get(i) != null ? Optional.of(held.get(i)) : readFile(ids.get(i));
                record.ifPresent(page::add);
            }
            from = ids.get(ids.size() - 1);
        }
        return page;
    }

    /** One round by id, from memory or from its file. */
    public synchronized Optional<RoundRecord> find(long id) {
        return lookup(id);
    }

    /** The newest round, if any. */
    public synchronized Optional<RoundRecord> latest() {
        return recent.isEmpty() ? Optional.empty() : Optional.of(recent.lastEntry().getValue());
    }

    /** The rounds still queued or running, oldest first (always in memory). */
    public synchronized List<RoundRecord> open() {
        return recent.values().stream().filter(r -> !r.state().isFinal()).toList();
    }

    /** The newest round that got as far as training (its record has sample counts), if any. */
    public synchronized Optional<RoundRecord> newestTrained() {
        return Optional.ofNullable(newestTrained);
    }

    /**
     * The newest round with an id below {@code below} that {@code which} accepts, searching memory and
     * then the files, newest first.
     */
    public synchronized Optional<RoundRecord> newest(long below, Predicate<RoundRecord> which) {
        if (below > droppedThrough + 1) {
            for (RoundRecord record : recent.subMap(droppedThrough, false, below, false).descendingMap().values()) {
                if (which.test(record)) {
                    return Optional.of(record);
                }
            }
        }
        long bound = Math.min(below, droppedThrough + 1);
        while (bound > 1) {
            List<Long> ids = storedIds(0, bound, window, false);
            if (ids.isEmpty()) {
                break;
            }
            for (long id : ids) {
                Optional<RoundRecord> record = lookup(id);
                if (record.isPresent() && which.test(record.get())) {
                    return record;
                }
            }
            bound = ids.get(ids.size() - 1);
        }
        return Optional.empty();
    }

    /** How many rounds are recorded on disk. */
    public synchronized long count() {
        return stored;
    }

    /** How many round records are held in memory now; bounded by the window plus the open and unsaved rounds. */
    synchronized int inMemory() {
        return recent.size();
    }

    /** Calls {@code listener} with every later change of any round, on the thread that made it. */
    public void addListener(Consumer<RoundRecord> listener) {
        listeners.add(listener);
    }

    public void removeListener(Consumer<RoundRecord> listener) {
        listeners.remove(listener);
    }

    /** The JSON form of a record, as stored. */
    public static String toJson(RoundRecord record) {
        try {
            return JSON.writeValueAsString(record);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A record from its JSON form. */
    public static RoundRecord fromJson(byte[] json) {
        try {
            return JSON.readValue(json, RoundRecord.class);
        } catch (IOException e) {
            throw new UncheckedIOException("not a round record: " + e.getMessage(), e);
        }
    }

    private void remember(RoundRecord record) {
        recent.put(record.id(), record);
        lastId = Math.max(lastId, record.id());
        if (record.samples() != null && (newestTrained == null || record.id() >= newestTrained.id())) {
            newestTrained = record;
        }
        forgetBeyondWindow();
    }

    private void notifyListeners(RoundRecord record) {
        for (Consumer<RoundRecord> listener : listeners) {
            try {
                listener.accept(record);
            } catch (RuntimeException e) {
                LOG.debugf("a round listener failed: %s", e.getMessage());
            }
        }
    }

    /** Drops the oldest finished, saved rounds until the window holds; never the newest round. */
    private void forgetBeyondWindow() {
        if (recent.size() <= window) {
            return;
        }
        long newest = recent.lastKey();
        Iterator<Map.Entry<Long, RoundRecord>> entries = recent.entrySet().iterator();
        while (recent.size() > window && entries.hasNext()) {
            Map.Entry<Long, RoundRecord> entry = entries.next();
            long id = entry.getKey();
            if (id != newest && entry.getValue().state().isFinal() && !unsaved.contains(id)) {
                entries.remove();
                droppedThrough = Math.max(droppedThrough, id);
            }
        }
    }

    private Optional<RoundRecord> lookup(long id) {
        RoundRecord held = recent.get(id);
        if (held != null) {
            return Optional.of(held);
        }
        return id <= droppedThrough ? readFile(id) : Optional.empty();
    }

    private Optional<RoundRecord> readFile(long id) {
        Path file = fileOf(id);
        try {
            return Optional.of(JSON.readValue(file.toFile(), RoundRecord.class));
        } catch (java.io.FileNotFoundException | NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.warnf("ignoring round record %s: %s", file, e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Up to {@code max} ids of recorded rounds strictly between {@code above} and {@code below}, from the
     * files and from memory: the lowest ones ascending, or the highest ones descending. One pass over
     * the folder, holding at most {@code max + 1} ids.
     */
    private List<Long> storedIds(long above, long below, int max, boolean lowest) {
        TreeSet<Long> kept = new TreeSet<>();
        Consumer<Long> offer = id -> {
            if (id > above && id < below && kept.add(id) && kept.size() > max) {
                if (lowest) {
                    kept.pollLast();
                } else {
                    kept.pollFirst();
                }
            }
        };
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            for (Path file : files) {
                offer.accept(idOf(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the round history in " + dir + ": " + e.getMessage(), e);
        }
        if (above < below) {
            recent.subMap(above, false, below, false).keySet().forEach(offer);
        }
        return new ArrayList<>(lowest ? kept : kept.descendingSet());
    }

    /** The id a round file's name gives, or -1 when the name is not a round file's. */
    private static long idOf(Path file) {
        String name = file.getFileName().toString();
        if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) {
            return -1;
        }
        String digits = name.substring(PREFIX.length(), name.length() - SUFFIX.length());
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Long.parseLong(digits);
    }

    private Path fileOf(long id) {
        return dir.resolve(String.format(PREFIX + "%06d" + SUFFIX, id));
    }

    /**
     * Reads every file once, oldest first, keeping the window; marks open rounds failed on disk. Memory
     * holds one record at a time beyond the window; the ids are sorted in one array of longs.
     */
    private void load() throws IOException {
        long[] ids;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            List<Long> found = new ArrayList<>();
            for (Path file : files) {
                long id = idOf(file);
                if (id > 0) {
                    found.add(id);
                }
            }
            ids = found.stream().mapToLong(Long::longValue).sorted().toArray();
        }
        for (long id : ids) {
            Optional<RoundRecord> read = readFile(id);
            if (read.isEmpty()) {
                continue;
            }
            RoundRecord record = read.get();
            stored++;
            if (!record.state().isFinal()) {
                LOG.warnf("round %d was %s when the process stopped; marking it failed", record.id(),
                        record.state().wireName());
                record = record.failed(INTERRUPTED_CAUSE);
                Durable.replace(fileOf(record.id()), JSON.writeValueAsBytes(record));
            }
            remember(record);
        }
    }
}
