package io.microkernel.api;

import io.microkernel.training.InvalidRoundRequestException;
import io.microkernel.training.InvalidSampleException;
import io.microkernel.training.RoundConflictException;
import io.microkernel.training.RoundNotFoundException;
import io.microkernel.training.SampleBufferFullException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Problem documents for the training side's exceptions, in the same form as {@link ProblemMapper}'s. */
public class TrainingProblemMapper {

    @ServerExceptionMapper
    public Response invalidSample(InvalidSampleException e) {
        return ProblemMapper.problem(Problem.of("invalid-sample", "Invalid sample", 400, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response invalidRound(InvalidRoundRequestException e) {
        return ProblemMapper.problem(Problem.of("invalid-round-request", "Invalid round request", 400, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response bufferFull(SampleBufferFullException e) {
        return ProblemMapper.problem(Problem.of("sample-buffer-full", "Sample buffer full", 429, e.getMessage()),
                HttpHeaders.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
    }

    @ServerExceptionMapper
    public Response conflict(RoundConflictException e) {
        return ProblemMapper.problem(Problem.of("round-conflict", "Round conflict", 409, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response unknownRound(RoundNotFoundException e) {
        return ProblemMapper.problem(Problem.of("unknown-round", "Unknown round", 404, e.getMessage()));
    }
}
