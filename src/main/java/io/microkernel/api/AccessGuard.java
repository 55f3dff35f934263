package io.microkernel.api;

import io.microkernel.config.MicrokernelConfig;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.HttpHeaders;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;

/**
 * The token rule: a guarded request is accepted from a loopback client without credentials, and
 * from anywhere else only with {@code Authorization: Bearer <microkernel.api.token>}. Without a
 * configured token only loopback clients pass. Behind a reverse proxy on the same host every client
 * looks like loopback; set {@code microkernel.api.trust-loopback=false} there.
 *
 * <p>Thread-safe and immutable.
 */
@ApplicationScoped
public class AccessGuard {

    private static final String BEARER = "Bearer ";

    private final Optional<String> token;
    private final boolean trustLoopback;
    private final boolean protectInference;

    @Inject
    public AccessGuard(MicrokernelConfig config) {
        this(config.api().token().filter(t -> !t.isBlank()), config.api().trustLoopback(), config.api().protectInference());
    }

    public AccessGuard(Optional<String> token, boolean trustLoopback, boolean protectInference) {
        this.token = token;
        this.trustLoopback = trustLoopback;
        this.protectInference = protectInference;
    }

    /** Whether inference endpoints are guarded too. */
    public boolean protectsInference() {
        return protectInference;
    }

    /**
     * Checks a guarded request.
     *
     * @param clientAddress the peer's IP address as text ({@code 127.0.0.1}, {@code ::1}...)
     * @param authorization the {@code Authorization} header, or {@code null}
     * @throws ProblemException (unauthorized, with a WWW-Authenticate challenge) saying what was expected and what was found
     */
    public void check(String clientAddress, String authorization) {
        Optional<String> refusal = refusal(clientAddress, authorization);
        if (refusal.isPresent()) {
            throw denied(refusal.get());
        }
    }

    /**
     * Whether a guarded request from {@code clientAddress} with {@code authorization} would pass, without
     * throwing: empty when it would, else what {@link #check} would answer.
     */
    public Optional<String> refusal(String clientAddress, String authorization) {
        if (trustLoopback && isLoopback(clientAddress)) {
            return Optional.empty();
        }
        if (token.isEmpty()) {
            return Optional.of("expected a loopback client (no microkernel.api.token is configured), found "
                    + clientAddress);
        }
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return Optional.of("expected 'Authorization: Bearer <token>' from non-loopback client "
                    + clientAddress + ", found " + (authorization == null ? "no Authorization header" : "another scheme"));
        }
        byte[] offered = authorization.substring(BEARER.length()).trim().getBytes(StandardCharsets.UTF_8);
        // Constant-time comparison, so response times do not reveal how much of the token matched.
        if (!MessageDigest.isEqual(offered, token.get().getBytes(StandardCharsets.UTF_8))) {
            return Optional.of("expected the configured API token, found a different one");
        }
        return Optional.empty();
    }

    /** Whether a token is configured, so a client that is not trusted by address can still be let in. */
    public boolean acceptsToken() {
        return token.isPresent();
    }

    private static ProblemException denied(String detail) {
        return new ProblemException(ProblemType.UNAUTHORIZED, detail, null,
                Map.of(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"onnx-microkernel\""));
    }

    static boolean isLoopback(String address) {
        if (address == null || address.isBlank() || !address.matches("[0-9A-Fa-f:.%\\[\\]a-zA-Z]+")) {
            return false;
        }
        String literal = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
        // Only IP literals reach here from the socket; refuse names so no lookup ever happens.
        if (!literal.matches("[0-9.]+") && !literal.contains(":")) {
            return false;
        }
        try {
            return InetAddress.getByName(literal).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
