package io.microkernel.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One HTTP/1.1 keep-alive connection with plain blocking sockets: the saturation client of the
 * benchmark, lean as wrk's or perf_analyzer's, so that the client's own CPU on the shared cores
 * takes as little as it can from the service being measured.
 *
 * <p>Requests are serialised once ({@link #request}) and written as they are; the answer's status
 * line is parsed, its headers are scanned for {@code Content-Length} and {@code Connection: close},
 * and its body is read whole into a buffer this connection reuses. A chunked answer is refused
 * (the service answers every inference with a length). When the server closes, the next call
 * opens a new connection, counted in {@link #connectionsOpened()}.
 *
 * <p>Not thread-safe: one instance per thread, as in a closed loop.
 */
final class LeanHttpClient implements AutoCloseable {

    private static final int TIMEOUT_MILLIS = 30_000;

    private final InetSocketAddress address;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private int connectionsOpened;

    /** What came in: bytes [{@link #start}, {@link #end}) of {@link #buffer} are read and not yet used. */
    private byte[] buffer = new byte[16 * 1024];
    private int start;
    private int end;

    private int status;
    private byte[] body = new byte[16 * 1024];
    private int bodyLength;

    LeanHttpClient(URI base) {
        this.address = new InetSocketAddress(base.getHost(), base.getPort());
    }

    /**
     * The bytes of one request, serialised once: request line, {@code Host}, the given headers
     * (name, value, name, value...), {@code Content-Length} and the body.
     */
    static byte[] request(String method, URI base, String path, byte[] body, String... headers) {
        if (headers.length % 2 != 0) {
            throw new IllegalArgumentException("expected header names and values in pairs, found " + headers.length + " strings");
        }
        StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                .append("Host: ").append(base.getHost()).append(':').append(base.getPort()).append("\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (body == null) {
            return headBytes;
        }
        byte[] all = Arrays.copyOf(headBytes, headBytes.length + body.length);
        System.arraycopy(body, 0, all, headBytes.length, body.length);
        return all;
    }

    /**
     * Writes {@code request} and reads its answer whole; returns the status code. The body is then
     * {@link #body()} up to {@link #bodyLength()}, valid until the next call.
     *
     * @throws IOException when the connection fails or the answer is not HTTP/1.1 with a length
     */
    int exchange(byte[] request) throws IOException {
        if (socket == null) {
            open();
        }
        try {
            out.write(request);
            out.flush();
            boolean close = readAnswer();
            if (close) {
                closeSocket();
            }
            return status;
        } catch (IOException | RuntimeException e) {
            closeSocket();
            throw e;
        }
    }

    int status() {
        return status;
    }

    byte[] body() {
        return body;
    }

    int bodyLength() {
        return bodyLength;
    }

    /** The body as UTF-8 text, for messages and tests. */
    String bodyText() {
        return new String(body, 0, bodyLength, StandardCharsets.UTF_8);
    }

    /** Whether the body holds {@code needle}, without making a string of it. */
    boolean bodyContains(byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= bodyLength; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (body[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** How many connections this client has opened: 1 while the server keeps the connection alive. */
    int connectionsOpened() {
        return connectionsOpened;
    }

    private void open() throws IOException {
        Socket fresh = new Socket();
        try {
            fresh.setTcpNoDelay(true);
            fresh.setSoTimeout(TIMEOUT_MILLIS);
            fresh.connect(address, TIMEOUT_MILLIS);
        } catch (IOException e) {
            fresh.close();
            throw e;
        }
        socket = fresh;
        in = fresh.getInputStream();
        out = fresh.getOutputStream();
        start = 0;
        end = 0;
        connectionsOpened++;
    }

    /** Reads status line, headers and body; returns whether the server will close the connection. */
    private boolean readAnswer() throws IOException {
        int lineEnd = readLine();
        // "HTTP/1.1 200 OK": the code is the three digits after the first space.
        if (lineEnd - start < 12 || buffer[start] != 'H' || buffer[start + 8] != ' ') {
            throw new IOException("expected an HTTP/1.x status line, found '" + text(start, lineEnd) + "'");
        }
        status = digit(start + 9) * 100 + digit(start + 10) * 10 + digit(start + 11);
        boolean http10 = buffer[start + 7] == '0';
        start = lineEnd + 2;
        long length = -1;
        boolean close = http10;
        while (true) {
            lineEnd = readLine();
            if (lineEnd == start) {
                start += 2;
                break;
            }
            if (startsWithIgnoreCase("content-length:", lineEnd)) {
                length = Long.parseLong(text(start + "content-length:".length(), lineEnd).trim());
            } else if (startsWithIgnoreCase("transfer-encoding:", lineEnd)) {
                throw new IOException("expected a Content-Length body, found '" + text(start, lineEnd) + "'");
            } else if (startsWithIgnoreCase("connection:", lineEnd)) {
                String value = text(start + "connection:".length(), lineEnd).trim();
                close = value.equalsIgnoreCase("close") || (http10 && !value.equalsIgnoreCase("keep-alive"));
            }
            start = lineEnd + 2;
        }
        if (length < 0) {
            throw new IOException("expected a Content-Length header in an answer with status " + status + ", found none");
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw new IOException("expected a body this client can hold, found Content-Length " + length);
        }
        readBody((int) length);
        return close;
    }

    /** The index of the next CRLF at or after {@link #start}, reading more until there is one. */
    private int readLine() throws IOException {
        int from = start;
        while (true) {
            for (int i = from; i + 1 < end; i++) {
                if (buffer[i] == '\r' && buffer[i + 1] == '\n') {
                    return i;
                }
            }
            from = Math.max(start, end - 1);
            int shift = start;
            fill();
            from -= shift;
        }
    }

    /** Reads more bytes after {@link #end}, first moving what is unread to the front (and growing when full). */
    private void fill() throws IOException {
        if (start > 0) {
            System.arraycopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }
        if (end == buffer.length) {
            if (buffer.length >= 1 << 20) {
                throw new IOException("expected headers of at most " + buffer.length + " bytes, found more");
            }
            buffer = Arrays.copyOf(buffer, buffer.length * 2);
        }
        int read = in.read(buffer, end, buffer.length - end);
        if (read < 0) {
            throw new EOFException("the server closed the connection in the middle of an answer");
        }
        end += read;
    }

    private void readBody(int length) throws IOException {
        if (body.length < length) {
            body = new byte[Math.max(length, body.length * 2)];
        }
        int buffered = Math.min(length, end - start);
        System.arraycopy(buffer, start, body, 0, buffered);
        start += buffered;
        int have = buffered;
        while (have < length) {
            int read = in.read(body, have, length - have);
            if (read < 0) {
                throw new EOFException("expected a body of " + length + " bytes, found " + have + " before the connection closed");
            }
            have += read;
        }
        bodyLength = length;
    }

    private int digit(int index) throws IOException {
        int d = buffer[index] - '0';
        if (d < 0 || d > 9) {
            throw new IOException("expected a three-digit status code, found '" + text(index - 1, Math.min(end, index + 4)) + "'");
        }
        return d;
    }

    private boolean startsWithIgnoreCase(String lowerCasePrefix, int lineEnd) {
        if (lineEnd - start < lowerCasePrefix.length()) {
            return false;
        }
        for (int i = 0; i < lowerCasePrefix.length(); i++) {
            if (Character.toLowerCase((char) buffer[start + i]) != lowerCasePrefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private String text(int from, int to) {
        return new String(buffer, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private void closeSocket() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Closing after a failure: nothing more to do with this connection.
            }
            socket = null;
            in = null;
            out = null;
        }
    }

    @Override
    public void close() {
        closeSocket();
    }
}
