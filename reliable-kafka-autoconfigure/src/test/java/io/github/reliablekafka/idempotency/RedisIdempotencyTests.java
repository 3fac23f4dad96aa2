package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.RedisServerProcess;
import io.github.reliablekafka.testing.TestDatabase;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class RedisIdempotencyTests extends AbstractIdempotencyTests {

	@Override
	protected String store() {
		return "redis";
	}

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

	/**
	 * Redis alone is the guard: while it is down nothing is processed and no offset is committed past the held
	 * record; when it is back (with its data: append-only file, fsync always) the run resumes with no double effect.
	 */
	@Test
	void withRedisDownNothingIsProcessedOrCommittedAndTheRunResumes() throws Exception {
		String topic = KafkaTestSupport.newTopic("idem-redis-outage", 1);
		String group = "outage-" + topic;
		try (RedisServerProcess own = RedisServerProcess.start(true)) {
			start("test.topic=" + topic, "test.group=" + group, "spring.data.redis.port=" + own.port(),
					"spring.data.redis.timeout=500ms");
			List<String> ids = new ArrayList<>();
			produce(TwoTierIdempotencyTests.phase(topic, ids, 300, List.of()));
			await().atMost(Duration.ofSeconds(60)).until(() -> effectCounts().size() == 300 && caughtUp(topic, group, 1));
			long committedBefore = committed(topic, group);

			own.stop();
			produce(TwoTierIdempotencyTests.phase(topic, ids, 300, List.copyOf(ids)));
			Thread.sleep(8_000); // the guard is down: the records wait, with back-off
			int effectsDuring = effectRows();
			long committedDuring = committed(topic, group);

			own.start();
			await().atMost(Duration.ofSeconds(90)).until(() -> effectCounts().size() == 600 && caughtUp(topic, group, 1));
			Thread.sleep(500);
			Map<String, Long> effects = effectCounts();
			long lost = ids.stream().filter((id) -> !effects.containsKey(id)).count();
			long doubled = effects.values().stream().filter((count) -> count > 1).count();
			System.out.printf("[redis] Redis killed for 8 s mid-run: effects during the outage=%d (300 before), "
					+ "committed offset %d before, %d during; after restart effects=%d lost=%d doubled=%d%n",
					effectsDuring, committedBefore, committedDuring, effectRows(), lost, doubled);
			assertThat(effectsDuring).as("nothing processed without the guard").isEqualTo(300);
			assertThat(committedDuring).as("no commit past the held record").isEqualTo(committedBefore);
			assertThat(lost).isZero();
			assertThat(doubled).isZero();
			assertThat(effectRows()).isEqualTo(600);
		}
	}

	private long committed(String topic, String group) {
		TopicPartition partition = new TopicPartition(topic, 0);
		return KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(), group, List.of(partition))
			.getOrDefault(partition, -1L);
	}

}
