package io.microkernel.training;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.microkernel.store.Durable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The round history of one model: one JSON file per round under {@code data/models/{m}/rounds/},
 * each replaced atomically (temp file, fsync, rename), so a crash leaves the old record or the new
 * one, never half of one.
 *
 * <p>Opening the history marks every round that was still queued or running as failed with the
 * cause "process stopped during the round": only a crash or a kill leaves one behind.
 *
 * <p>Progress (epoch, step, loss) changes many times a second; {@link #update} keeps it in memory
 * and tells listeners, while {@link #save} also writes the file. Thread-safe.
 */
public final class RoundRecords {

    /** The cause recorded on a round that was queued or running when the process stopped. */
    public static final String INTERRUPTED_CAUSE = "process stopped during the round";

    private static final Logger LOG = Logger.getLogger(RoundRecords.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final TreeMap<Long, RoundRecord> rounds = new TreeMap<>();
    private final List<Consumer<RoundRecord>> listeners = new CopyOnWriteArrayList<>();
    private long lastId;

    private RoundRecords(Path dir) {
        this.dir = dir;
    }

    /** Reads the history in {@code dir} (created when missing) and fails rounds a stopped process left open. */
    public static RoundRecords open(Path dir) {
        RoundRecords records = new RoundRecords(dir);
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
            try {
                Durable.replace(fileOf(record.id()), JSON.writeValueAsBytes(record));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write round " + record.id() + " to " + dir + ": "
                        + e.getMessage(), e);
            }
            remember(record);
        }
        notifyListeners(record);
    }

    /** Keeps the record in memory only (progress updates) and tells listeners. */
    public void update(RoundRecord record) {
        synchronized (this) {
            remember(record);
        }
        notifyListeners(record);
    }

    public synchronized List<RoundRecord> list() {
        return List.copyOf(rounds.values());
    }

    /** Up to {@code limit} rounds with ids above {@code after}, oldest first; one more tells whether more follow. */
    public synchronized List<RoundRecord> page(long after, int limit) {
        return rounds.tailMap(after, false).values().stream().limit(limit).toList();
    }

    public synchronized Optional<RoundRecord> find(long id) {
        return Optional.ofNullable(rounds.get(id));
    }

    /** The newest round, if any. */
    public synchronized Optional<RoundRecord> latest() {
        return rounds.isEmpty() ? Optional.empty() : Optional.of(rounds.lastEntry().getValue());
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
        rounds.put(record.id(), record);
        lastId = Math.max(lastId, record.id());
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

    private Path fileOf(long id) {
        return dir.resolve(String.format("round-%06d.json", id));
    }

    private void load() throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> {
                String name = p.getFileName().toString();
                return name.startsWith("round-") && name.endsWith(".json");
            }).sorted().toList();
        }
        List<RoundRecord> interrupted = new ArrayList<>();
        for (Path file : files) {
            RoundRecord record;
            try {
                record = JSON.readValue(file.toFile(), RoundRecord.class);
            } catch (IOException e) {
                LOG.warnf("ignoring round record %s: %s", file, e.getMessage());
                continue;
            }
            remember(record);
            if (!record.state().isFinal()) {
                interrupted.add(record);
            }
        }
        for (RoundRecord record : interrupted) {
            LOG.warnf("round %d was %s when the process stopped; marking it failed", record.id(),
                    record.state().wireName());
            RoundRecord failed = record.failed(INTERRUPTED_CAUSE);
            Durable.replace(fileOf(failed.id()), JSON.writeValueAsBytes(failed));
            remember(failed);
        }
    }
}
