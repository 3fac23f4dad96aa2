package io.github.reliablekafka.dispatch;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.micrometer.context.ContextSnapshot;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What travels from the consumer thread to a lane worker with each record: the current observation and the MDC, and
 * the worker's own context comes back afterwards.
 */
class RecordContextTests {

	@Test
	void theConsumerThreadsObservationAndMdcRunWithTheRecordAndTheWorkersOwnContextComesBack() throws Exception {
		ObservationRegistry registry = ObservationRegistry.create();
		registry.observationConfig().observationHandler((context) -> true);
		RecordContext context = new RecordContext();
		Observation listener = Observation.start("spring.kafka.listener", registry);
		ContextSnapshot captured;
		try (Observation.Scope scope = listener.openScope()) {
			MDC.put("traceId", "t-1");
			captured = context.capture();
		}
		finally {
			MDC.remove("traceId");
		}
		ExecutorService worker = Executors.newSingleThreadExecutor();
		try {
			worker.submit(() -> MDC.put("worker", "own")).get(5, TimeUnit.SECONDS);
			CompletableFuture<Object[]> during = CompletableFuture.supplyAsync(() -> {
				try (ContextSnapshot.Scope scope = captured.setThreadLocals()) {
					return new Object[] { registry.getCurrentObservation(), MDC.get("traceId"), MDC.get("worker") };
				}
			}, worker);
			Object[] seen = during.get(5, TimeUnit.SECONDS);
			assertThat(seen[0]).as("the listener's observation is current while the record runs").isSameAs(listener);
			assertThat(seen[1]).as("the consumer thread's MDC").isEqualTo("t-1");
			assertThat(seen[2]).as("the worker's own MDC is not mixed in").isNull();
			Object[] after = CompletableFuture.supplyAsync(
					() -> new Object[] { registry.getCurrentObservation(), MDC.get("traceId"), MDC.get("worker") },
					worker).get(5, TimeUnit.SECONDS);
			assertThat(after[0]).as("no observation left on the worker").isNull();
			assertThat(after[1]).isNull();
			assertThat(after[2]).as("the worker's own MDC back").isEqualTo("own");
		}
		finally {
			worker.shutdownNow();
			listener.stop();
		}
	}

	@Test
	void aRecordPolledWithANoOpObservationAndAnEmptyMdcCarriesNoContext() {
		ObservationRegistry registry = ObservationRegistry.create(); // no handler: spring-kafka's case with observation off
		RecordContext context = new RecordContext();
		Observation noop = Observation.start("spring.kafka.listener", registry);
		assertThat(noop.isNoop()).isTrue();
		MDC.put("gone", "soon");
		MDC.remove("gone"); // an MDC map that exists but is empty
		try (Observation.Scope scope = noop.openScope()) {
			assertThat(context.capture()).as("nothing to carry, so no snapshot to set on the worker").isNull();
			MDC.put("traceId", "t-2");
			assertThat(context.capture()).as("an MDC entry is carried").isNotNull();
		}
		finally {
			MDC.remove("traceId");
		}
	}

}
