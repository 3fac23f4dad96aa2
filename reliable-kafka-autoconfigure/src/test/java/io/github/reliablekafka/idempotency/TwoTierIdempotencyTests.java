package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.RedisServerProcess;
import io.github.reliablekafka.testing.TestDatabase;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class TwoTierIdempotencyTests extends AbstractIdempotencyTests {

	@Override
	protected String store() {
		return "two-tier";
	}

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

	/**
	 * A Redis of the test's own is killed in the middle of a run and comes back empty (it kept nothing): the
	 * ledger alone decides during the outage, and after it, for every key Redis forgot.
	 */
	@Test
	void aRedisOutageFallsBackToTheLedgerWithNoDoubleEffect() throws Exception {
		String topic = KafkaTestSupport.newTopic("idem-outage", 3);
		try (RedisServerProcess own = RedisServerProcess.start(false)) {
			ConfigurableApplicationContext context = start("test.topic=" + topic, "test.group=outage-" + topic,
					"test.concurrency=3", "spring.data.redis.port=" + own.port(), "spring.data.redis.timeout=500ms");
			List<String> ids = new ArrayList<>();
			// before: 500 messages, each delivered twice
			produce(phase(topic, ids, 500, List.of()));
			await().atMost(Duration.ofSeconds(60)).until(() -> effectCounts().size() == 500);
			double fallbacksBefore = checks(context, "fallback");

			own.stop();
			// during: 500 new messages, each twice, and a re-send of everything before the outage
			produce(phase(topic, ids, 500, List.copyOf(ids)));
			await().atMost(Duration.ofSeconds(90)).until(() -> effectCounts().size() == 1_000);
			await().atMost(Duration.ofSeconds(30)).until(() -> checks(context, "duplicate") >= 500 + 1_000);
			double fallbacksDuring = checks(context, "fallback") - fallbacksBefore;

			own.start(); // empty: every DONE is forgotten
			// after: 500 new messages, each twice, and a re-send of everything so far
			produce(phase(topic, ids, 500, List.copyOf(ids)));
			await().atMost(Duration.ofSeconds(90)).until(() -> effectCounts().size() == 1_500);
			await().atMost(Duration.ofSeconds(30)).until(() -> checks(context, "duplicate") >= 500 + 1_000 + 1_500);
			Thread.sleep(500);

			Map<String, Long> effects = effectCounts();
			long lost = ids.stream().filter((id) -> !effects.containsKey(id)).count();
			long doubled = effects.values().stream().filter((count) -> count > 1).count();
			System.out.printf("[two-tier] Redis killed mid-run and back empty: 1,500 messages, 4,500 deliveries; "
					+ "effects=%d lost=%d doubled=%d fallback checks during the outage=%.0f, after it=%.0f%n",
					effectRows(), lost, doubled, fallbacksDuring,
					checks(context, "fallback") - fallbacksBefore - fallbacksDuring);
			assertThat(fallbacksBefore).isZero();
			// every delivery that does not follow a new record on its partition is checked (the others go to the
			// ledger without asking Redis): here about half of the 1,500 deliveries of the outage
			assertThat(fallbacksDuring).as("checks decided by the ledger alone while Redis was down")
				.isGreaterThanOrEqualTo(300);
			assertThat(lost).isZero();
			assertThat(doubled).isZero();
			assertThat(effectRows()).isEqualTo(1_500);
		}
	}

	/** Messages {@code count} new ones, each sent twice, and a re-send of {@code again}, shuffled. */
	static List<ProducerRecord<String, byte[]>> phase(String topic, List<String> ids, int count, List<String> again) {
		List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			String id = MessageIds.next();
			ids.add(id);
			records.add(record(topic, null, "k" + (i % 50), "v", id));
			records.add(record(topic, null, "k" + (i % 50), "v", id));
		}
		again.forEach((id) -> records.add(record(topic, null, "again", "v", id)));
		Collections.shuffle(records);
		return records;
	}

}
