package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ResponseIdsTest {

    @Test
    void idsAreDistinctVersionFourUuids() {
        ResponseIds ids = new ResponseIds(new SecureRandom());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            String id = ids.next();
            assertThat(id).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
            UUID parsed = UUID.fromString(id);
            assertThat(parsed.version()).isEqualTo(4);
            assertThat(parsed.variant()).isEqualTo(2);
            seen.add(id);
        }
        assertThat(seen).hasSize(100_000);
    }

    @Test
    void twoInstancesLikeARestartOrAReplicaNeverGiveTheSameId() {
        ResponseIds first = new ResponseIds(new SecureRandom());
        ResponseIds second = new ResponseIds(new SecureRandom());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 50_000; i++) {
            seen.add(first.next());
            seen.add(second.next());
        }
        assertThat(seen).hasSize(100_000);
    }

    @Test
    void theProcessIdsAnswerRequestsThatSentNone() {
        assertThat(ServedPredictions.id(null)).isNotEqualTo(ServedPredictions.id(""));
        assertThat(ServedPredictions.id("mine")).isEqualTo("mine");
    }
}
