package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Clients sending at once, started together: every answer must be the one its client got alone. */
final class ConcurrentClients {

    private ConcurrentClients() {
    }

    /** Client {@code client}'s answer to its request number {@code request}. */
    @FunctionalInterface
    interface Ask {
        Object answer(int client, int request) throws Exception;
    }

    /**
     * Runs {@code alone.size()} clients at once, {@code requests} requests each, and checks each answer
     * against {@code alone.get(client)}.
     */
    static void eachGetsItsOwnAnswers(List<?> alone, int requests, Ask ask) throws Exception {
        assertThat(alone).as("the inputs must tell the clients apart").doesNotHaveDuplicates();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService clients = Executors.newFixedThreadPool(alone.size());
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < alone.size(); t++) {
                int client = t;
                done.add(clients.submit(() -> {
                    start.await();
                    for (int i = 0; i < requests; i++) {
                        assertThat(ask.answer(client, i)).as("client %d, request %d", client, i).isEqualTo(alone.get(client));
                    }
                    return requests;
                }));
            }
            start.countDown();
            for (Future<Integer> f : done) {
                assertThat(f.get(120, TimeUnit.SECONDS)).isEqualTo(requests);
            }
        } finally {
            clients.shutdownNow();
        }
    }
}
