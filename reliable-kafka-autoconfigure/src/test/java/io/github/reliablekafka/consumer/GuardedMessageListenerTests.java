package io.github.reliablekafka.consumer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyKeyResolver;
import io.github.reliablekafka.idempotency.IdempotencyKeyStrategy;
import io.github.reliablekafka.support.PayloadCodec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * When the guard may leave a record's last write for later, and what writes it: a record that does not reach the
 * guard (replayed without it, or whose key cannot be computed) has the guard's deferred writes flushed before anything
 * else happens to it, and the poll's end flushes the rest. The Redis writes themselves, and that every committed
 * record is {@code DONE} first, are proven against Redis and Kafka in {@code RedisIdempotencyTests}.
 */
class GuardedMessageListenerTests {

	private final List<String> calls = new ArrayList<>();

	private final IdempotencyGuard guard = new IdempotencyGuard() {

		@Override
		public Outcome execute(String group, String key, Work work) throws Exception {
			GuardedMessageListenerTests.this.calls.add("execute " + key);
			work.run();
			return Outcome.PROCESSED;
		}

		@Override
		public Outcome executeDeferring(String group, String key, boolean inFlow, Work work) throws Exception {
			GuardedMessageListenerTests.this.calls.add("defer " + key);
			work.run();
			return Outcome.PROCESSED;
		}

		@Override
		public void flushDeferred() {
			GuardedMessageListenerTests.this.calls.add("flush");
		}

		@Override
		public String store() {
			return "recording";
		}

	};

	private final PollEnd pollEnd = new PollEnd(this.guard);

	@Test
	void aRecordThatDoesNotReachTheGuardHasTheDeferredWritesFlushedFirst() {
		this.pollEnd.setupThreadState(null); // the container's first poll on this thread
		GuardBypass bypass = new GuardBypass();
		bypass.bypass("g", Map.of(new TopicPartition("t", 1), 100L)); // partition 1 replays without the guard
		GuardedMessageListener listener = listener(bypass);
		listener.onMessage(record(0, 0, "a"), null, null);
		listener.onMessage(record(1, 0, "b"), null, null);
		listener.onMessage(record(0, 1, "c"), null, null);
		assertThatExceptionOfType(NonRetryableException.class)
			.isThrownBy(() -> listener.onMessage(record(0, 2, null), null, null)); // no key: the expression gives none
		this.pollEnd.clearThreadState(null);
		assertThat(this.calls).containsExactly("defer expr:a", "flush", "app b", "defer expr:c", "flush", "flush");
	}

	@Test
	void aThreadTheContainerNeverSetUpDefersNothing() {
		// a container customizer replaced the container's record interceptor: PollEnd never hears of this thread
		GuardedMessageListener listener = listener(new GuardBypass());
		listener.onMessage(record(0, 0, "a"), null, null);
		listener.onMessage(record(0, 1, "c"), null, null);
		assertThat(this.calls).containsExactly("execute expr:a", "execute expr:c");
	}

	private GuardedMessageListener listener(GuardBypass bypass) {
		return new GuardedMessageListener((record, acknowledgment, consumer) -> {
			if (record.partition() == 1) {
				this.calls.add("app " + record.key());
			}
		}, this.guard, new IdempotencyKeyResolver(IdempotencyKeyStrategy.EXPRESSION, "#record.key()", null,
				PayloadCodec.fastjson2()), "g", "l", bypass, new PartitionFlow(), this.pollEnd::armed);
	}

	private static ConsumerRecord<String, byte[]> record(int partition, long offset, @Nullable String key) {
		return new ConsumerRecord<>("t", partition, offset, key, new byte[0]);
	}

}
