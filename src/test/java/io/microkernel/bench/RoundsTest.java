package io.microkernel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoundsTest {

    @Test
    void followsTheEventsToTheFirstTerminalRecordNotingEachPhaseOnce() throws IOException {
        long started = System.nanoTime();
        List<String> stream = List.of(
                "data:{\"id\":7,\"state\":\"running\",\"progress\":{\"phase\":\"training\"}}", "",
                "data:{\"id\":7,\"state\":\"running\",", "data: \"progress\":{\"phase\":\"training\"}}", "",
                ":a comment line", "data:{\"id\":7,\"state\":\"running\",\"progress\":{\"phase\":\"evaluating\"}}", "",
                "data:{\"id\":7,\"state\":\"promoted\",\"progress\":{\"phase\":\"done\"}}", "",
                "data:{\"id\":7,\"state\":\"never read\"}", "");

        Rounds.Finished round = Rounds.follow("7", stream.iterator(), started);

        assertThat(round.state()).isEqualTo("promoted");
        assertThat(round.promoted()).isTrue();
        assertThat(round.phaseFirstSeenNanos()).containsOnlyKeys("training", "evaluating", "done");
        assertThat(round.phaseFirstSeenNanos().get("training")).isLessThanOrEqualTo(round.phaseFirstSeenNanos().get("evaluating"));
        assertThat(round.finishedNanos()).isGreaterThanOrEqualTo(round.phaseFirstSeenNanos().get("done"));
    }

    @Test
    void aStreamThatEndsBeforeTheRoundIsAnError() {
        List<String> stream = List.of("data:{\"id\":7,\"state\":\"running\"}", "");

        assertThatThrownBy(() -> Rounds.follow("7", stream.iterator(), System.nanoTime()))
                .isInstanceOf(IOException.class).hasMessageContaining("ended before the round did");
    }

    @Test
    void phaseWindowsSplitTheRoundFromItsStartToItsEnd() {
        Rounds.Finished round = new Rounds.Finished("7", "rejected", MicrokernelClient.JSON.createObjectNode(), 100, 900,
                new java.util.LinkedHashMap<>(Map.of("training", 250L)));
        round.phaseFirstSeenNanos().put("evaluating", 600L);

        Map<String, long[]> windows = round.phaseWindows();

        assertThat(windows).containsOnlyKeys("starting", "training", "evaluating");
        assertThat(windows.get("starting")).containsExactly(100, 250);
        assertThat(windows.get("training")).containsExactly(250, 600);
        assertThat(windows.get("evaluating")).containsExactly(600, 900);
    }
}
