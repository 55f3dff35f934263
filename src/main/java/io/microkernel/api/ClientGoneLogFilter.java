package io.microkernel.api;

import io.quarkus.logging.LoggingFilter;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.jboss.logging.Logger;

/**
 * Keeps a client that left out of the error log: the REST layer logs a write to a closed
 * connection (an event stream whose client went away, say) as an ERROR with a long trace; that is
 * no failure of the server, so it becomes one debug line here. Installed on the console by
 * {@code quarkus.log.console.filter=client-gone}.
 */
@LoggingFilter(name = "client-gone")
public final class ClientGoneLogFilter implements Filter {

    private static final Logger LOG = Logger.getLogger(ClientGoneLogFilter.class);

    @Override
    public boolean isLoggable(LogRecord record) {
        if (record.getLevel().intValue() < Level.WARNING.intValue() || !RequestBodies.isDisconnect(record.getThrown())) {
            return true;
        }
        LOG.debugf("client disconnected (%s): %s", record.getLoggerName(), record.getThrown());
        return false;
    }
}
