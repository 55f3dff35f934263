package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AccessGuardTest {

    private final AccessGuard withToken = new AccessGuard(Optional.of("s3cret"), true, false);

    @Test
    void loopbackClientsNeedNoCredentials() {
        assertThatCode(() -> withToken.check("127.0.0.1", null)).doesNotThrowAnyException();
        assertThatCode(() -> withToken.check("0:0:0:0:0:0:0:1", null)).doesNotThrowAnyException();
        assertThatCode(() -> new AccessGuard(Optional.empty(), true, false).check("127.0.0.1", null)).doesNotThrowAnyException();
    }

    @Test
    void otherClientsNeedTheBearerToken() {
        assertThatThrownBy(() -> withToken.check("10.1.2.3", null)).isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.UNAUTHORIZED)
                .hasMessageContaining("expected 'Authorization: Bearer <token>' from non-loopback client 10.1.2.3, found no Authorization header");
        assertThatThrownBy(() -> withToken.check("10.1.2.3", "Basic czNjcmV0")).isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.UNAUTHORIZED)
                .hasMessageContaining("found another scheme");
        assertThatThrownBy(() -> withToken.check("10.1.2.3", "Bearer wrong")).isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.UNAUTHORIZED)
                .hasMessageContaining("expected the configured API token, found a different one");
        assertThatCode(() -> withToken.check("10.1.2.3", "Bearer s3cret")).doesNotThrowAnyException();
        assertThatCode(() -> withToken.check("::ffff:10.1.2.3", "bearer s3cret")).doesNotThrowAnyException();
    }

    @Test
    void withoutATokenOnlyLoopbackMayMutate() {
        AccessGuard noToken = new AccessGuard(Optional.empty(), true, false);

        assertThatThrownBy(() -> noToken.check("192.168.0.7", "Bearer anything")).isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.UNAUTHORIZED)
                .hasMessageContaining("expected a loopback client (no microkernel.api.token is configured), found 192.168.0.7");
    }

    @Test
    void loopbackIsNotTrustedWhenConfiguredSo() {
        AccessGuard behindProxy = new AccessGuard(Optional.of("s3cret"), false, false);

        assertThatThrownBy(() -> behindProxy.check("127.0.0.1", null)).isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.UNAUTHORIZED);
        assertThatCode(() -> behindProxy.check("127.0.0.1", "Bearer s3cret")).doesNotThrowAnyException();
    }

    @Test
    void namesAndGarbageAreNeverTakenForLoopback() {
        assertThatThrownBy(() -> new AccessGuard(Optional.empty(), true, false).check("localhost", null))
                .isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.UNAUTHORIZED);
        assertThatThrownBy(() -> new AccessGuard(Optional.empty(), true, false).check(null, null))
                .isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.UNAUTHORIZED);
    }
}
