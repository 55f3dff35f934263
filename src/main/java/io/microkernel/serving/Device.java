package io.microkernel.serving;

import java.util.Locale;

/** Where serving sessions run ({@code microkernel.device}). */
public enum Device {
    CPU, CUDA;

    /** @throws IllegalArgumentException naming the accepted values */
    public static Device parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("microkernel.device: expected cpu or cuda, found '" + text + "'");
        }
    }
}
