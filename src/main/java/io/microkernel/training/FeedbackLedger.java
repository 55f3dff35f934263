package io.microkernel.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Which journal samples came from feedback (labels for earlier predictions), so a round can say how
 * many of its samples did. Kept as one line {@code first last} per feedback request, in
 * {@code feedback-samples.txt} beside the journal; each addition is written and forced to disk.
 *
 * <p>Thread-safe.
 */
public final class FeedbackLedger {

    /** A ledger that knows no feedback samples, for setups without a prediction log. */
    public static final FeedbackLedger NONE = new FeedbackLedger(null);

    private record Range(long first, long last) {
    }

    private final Path file;
    private final List<Range> ranges = new ArrayList<>();

    private FeedbackLedger(Path file) {
        this.file = file;
    }

    /** Opens the ledger in {@code file}, reading what it holds; a malformed line is skipped. */
    public static FeedbackLedger open(Path file) {
        FeedbackLedger ledger = new FeedbackLedger(file);
        try {
            if (Files.isRegularFile(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String[] parts = line.trim().split(" ");
                    if (parts.length == 2) {
                        try {
                            ledger.ranges.add(new Range(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
                        } catch (NumberFormatException e) {
                            // A torn last line: the samples it named count as plain samples.
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return ledger;
    }

    /** Records that the samples with these ids came from feedback. */
    public synchronized void add(Collection<Long> sampleIds) {
        if (file == null || sampleIds.isEmpty()) {
            return;
        }
        List<Range> added = new ArrayList<>();
        long first = -1;
        long last = -1;
        for (long id : sampleIds.stream().sorted().toList()) {
            if (first >= 0 && id == last + 1) {
                last = id;
                continue;
            }
            if (first >= 0) {
                added.add(new Range(first, last));
            }
            first = id;
            last = id;
        }
        added.add(new Range(first, last));
        StringBuilder text = new StringBuilder();
        added.forEach(r -> text.append(r.first()).append(' ').append(r.last()).append('\n'));
        try {
            Files.createDirectories(file.getParent());
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record feedback samples in " + file + ": " + e.getMessage(), e);
        }
        ranges.addAll(added);
    }

    /** How many of these samples came from feedback. */
    public synchronized int count(Collection<Sample> samples) {
        if (ranges.isEmpty()) {
            return 0;
        }
        int count = 0;
        for (Sample sample : samples) {
            for (Range range : ranges) {
                if (sample.id() >= range.first() && sample.id() <= range.last()) {
                    count++;
                    break;
                }
            }
        }
        return count;
    }
}
