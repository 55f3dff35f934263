package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpClosedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/** A client that left is no server error: the log filter drops such ERRORs, and only those. */
class ClientGoneLogFilterTest {

    private final ClientGoneLogFilter filter = new ClientGoneLogFilter();

    private static LogRecord record(Level level, Throwable thrown) {
        LogRecord record = new LogRecord(level, "Exception in SSE server handling, impossible to send it to client");
        record.setLoggerName("org.jboss.resteasy.reactive.server.handlers.PublisherResponseHandler");
        record.setThrown(thrown);
        return record;
    }

    @Test
    void writesToAClosedConnectionAreDroppedFromTheErrorLog() {
        assertThat(filter.isLoggable(record(Level.SEVERE, new IOException("Broken pipe")))).isFalse();
        assertThat(filter.isLoggable(record(Level.SEVERE, new UncheckedIOException(new IOException("Connection reset by peer")))))
                .isFalse();
        assertThat(filter.isLoggable(record(Level.WARNING, new HttpClosedException("Connection was closed")))).isFalse();
    }

    @Test
    void realFailuresAndQuietLevelsAreKept() {
        assertThat(filter.isLoggable(record(Level.SEVERE, new IllegalStateException("a bug")))).isTrue();
        assertThat(filter.isLoggable(record(Level.SEVERE, null))).isTrue();
        assertThat(filter.isLoggable(record(Level.INFO, new IOException("Broken pipe")))).isTrue();
    }
}
