package io.github.reliablekafka.consumer;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory.ReliableListenerSettings;
import io.github.reliablekafka.idempotency.GuardUnavailableException;
import io.github.reliablekafka.internal.RetryBackoff;
import io.github.reliablekafka.support.PayloadCodecException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import org.springframework.util.backoff.BackOffExecution;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One retry decision for reliable listeners on the consumer thread and on key-ordered lanes.
 */
class RetryDecisionTests {

	private final RetryDecision decision = new RetryDecision(new ReliableListenerSettings(
			new RetryBackoff(3, Duration.ofMillis(200), 2.0, Duration.ofSeconds(1)), List.of(IOException.class), ".DLT",
			NullPayload.DEAD_LETTER, 1024, 1024, 1024, false));

	@Test
	void whileTheGuardCannotDecideARecordWaitsWithoutLimit() {
		Exception failure = new IllegalStateException("wrapped", new GuardUnavailableException("redis down"));
		assertThat(this.decision.waitsForGuard(failure)).isTrue();
		assertThat(this.decision.guardWaitMillis()).isEqualTo(200);
		BackOffExecution execution = this.decision.backOffFor(record(), failure).start();
		for (int i = 0; i < 1_000; i++) {
			assertThat(execution.nextBackOff()).isEqualTo(200);
		}
		assertThat(this.decision.backOffFor(record(), new IllegalStateException("other"))).isNull();
	}

	@Test
	void poisonAndTheListenersNonRetryableTypesAreNeverRetriedAtAnyDepth() {
		assertThat(this.decision.retries(new PayloadCodecException("malformed JSON at offset 3"), 1)).isFalse();
		assertThat(this.decision.retries(new RuntimeException(new NonRetryableException("no")), 1)).isFalse();
		assertThat(this.decision.retries(new RuntimeException(new IOException("configured")), 1)).isFalse();
		assertThat(this.decision.retries(new IllegalStateException("transient"), 1)).isTrue();
	}

	@Test
	void otherFailuresAreRetriedWithTheBackOffUntilTheAttemptsAreUsedUp() {
		IllegalStateException failure = new IllegalStateException("transient");
		assertThat(this.decision.retries(failure, 2)).isTrue();
		assertThat(this.decision.retries(failure, 3)).isFalse();
		assertThat(this.decision.delayAfter(1)).isEqualTo(200);
		assertThat(this.decision.delayAfter(2)).isEqualTo(400);
		BackOffExecution execution = this.decision.backOff().start();
		assertThat(execution.nextBackOff()).isEqualTo(200);
		assertThat(execution.nextBackOff()).isEqualTo(400);
		assertThat(execution.nextBackOff()).isEqualTo(BackOffExecution.STOP);
	}

	private static ConsumerRecord<?, ?> record() {
		return new ConsumerRecord<>("orders", 0, 0, "k", "v");
	}

}
