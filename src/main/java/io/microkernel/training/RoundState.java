package io.microkernel.training;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Where a training round is in its life; the last four are final. */
public enum RoundState {
    QUEUED, RUNNING, PROMOTED, REJECTED, FAILED, CANCELLED;

    public boolean isFinal() {
        return this != QUEUED && this != RUNNING;
    }

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @com.fasterxml.jackson.annotation.JsonCreator
    public static RoundState fromWireName(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
