package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import io.github.reliablekafka.consumer.ReliableListenerContainerFactoryCustomizer;
import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.RedisMonitor;
import io.github.reliablekafka.testing.RedisServerProcess;
import io.github.reliablekafka.testing.TestDatabase;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

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

	/**
	 * On the consumer thread, with no record interceptor of the application's, a record's {@code DONE} goes with the
	 * claim of the next record, in one script, and the last record of a poll is marked when the poll's records are
	 * done with: every offset the container commits is of records already {@code DONE} (checked by a consumer
	 * interceptor right after each commit), and a record costs its consumer one Redis round trip, not two (counted
	 * with {@code MONITOR} on a Redis of the test's own). With an interceptor of the application's, {@code DONE} is
	 * written at once: {@link #redeliveryAfterConsumerKillChangesNothingTwice} kills the consumer in one.
	 */
	@Test
	void everyCommittedRecordIsDoneBeforeItsCommitAndARecordCostsOneRoundTrip() throws Exception {
		DoneCounts counts = runAndCount("idem-redis-done", List.of());
		assertThat((counts.scripts() + counts.writes()) / (double) counts.records()).as("Redis round trips per record")
			.isLessThan(1.25);
	}

	/**
	 * On key-ordered lanes, a record's {@code DONE} goes with the claim of the next record its worker runs, and the
	 * last record of a worker's batch is marked before the batch is accounted for: every offset the dispatcher
	 * commits is of records already {@code DONE}, and a record costs about one round trip.
	 */
	@Test
	void onKeyOrderedLanesEveryCommittedRecordIsDoneBeforeItsCommitAndARecordCostsAboutOneRoundTrip() throws Exception {
		DoneCounts counts = runAndCount("idem-redis-lanes", List.of(), "test.ordering=KEY");
		assertThat((counts.scripts() + counts.writes()) / (double) counts.records()).as("Redis round trips per record")
			.isLessThan(1.5);
	}

	/**
	 * A container customizer that replaces the container's record interceptor also removes the one that writes the
	 * poll's last {@code DONE}: then nothing is left for later, and every record is still {@code DONE} before its
	 * commit, at two round trips.
	 */
	@Test
	void aReplacedRecordInterceptorLeavesNoDoneForLater() throws Exception {
		DoneCounts counts = runAndCount("idem-redis-replaced", List.of(ReplacedInterceptor.class));
		assertThat(counts.writes()).as("a DONE written on its own per record").isGreaterThanOrEqualTo(counts.records());
	}

	/**
	 * Run 3,000 records through a listener on 3 partitions, against a Redis of the test's own, checking at each commit
	 * that the committed records are {@code DONE}, and assert that none was lost, doubled, committed before its
	 * {@code DONE} or left without it.
	 */
	private DoneCounts runAndCount(String name, List<Class<?>> sources, String... properties) throws Exception {
		String topic = KafkaTestSupport.newTopic(name, 3);
		String group = "done-" + topic;
		int count = 3_000;
		try (RedisServerProcess own = RedisServerProcess.start(false)) {
			LettuceConnectionFactory factory = new LettuceConnectionFactory(new RedisStandaloneConfiguration("localhost",
					own.port()));
			factory.afterPropertiesSet();
			try (RedisMonitor monitor = RedisMonitor.start(own.port())) {
				RedisKeys keys = new RedisKeys(this.redis.keyPrefix());
				Function<String, String> state = (id) -> keys.state(group, "id:" + id.toLowerCase(Locale.ROOT));
				DoneAtCommit.watch(new StringRedisTemplate(factory), state);
				// no record interceptor of the application's: it would run between records, and nothing is deferred
				List<String> all = new ArrayList<>(List.of("test.topic=" + topic, "test.group=" + group,
						"test.concurrency=3", "test.interceptor=false", "spring.data.redis.port=" + own.port(),
						"spring.kafka.consumer.properties.interceptor.classes=" + DoneAtCommit.class.getName()));
				all.addAll(List.of(properties));
				start(sources, all.toArray(String[]::new));
				List<String> ids = new ArrayList<>();
				List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
				for (int i = 0; i < count; i++) {
					String id = MessageIds.next();
					ids.add(id);
					records.add(record(topic, null, "k" + (i % 50), "v", id));
				}
				produce(records);
				await().atMost(Duration.ofSeconds(90)).until(() -> effectCounts().size() == count
						&& caughtUp(topic, group, 3) && DoneAtCommit.checked.get() >= count);
				Map<String, Long> effects = effectCounts();
				long lost = ids.stream().filter((id) -> !effects.containsKey(id)).count();
				long doubled = effects.values().stream().filter((n) -> n > 1).count();
				StringRedisTemplate redis = new StringRedisTemplate(factory);
				long notDoneNow = ids.stream()
					.filter((id) -> !"DONE".equals(redis.opsForValue().get(state.apply(id))))
					.count();
				DoneCounts counts = new DoneCounts(count, monitor.calls("EVALSHA", "EVAL"), monitor.calls("SET"));
				System.out.printf("[redis] %s: %d records on 3 partitions: lost=%d doubled=%d; committed records "
						+ "checked=%d, not DONE at their commit=%d, not DONE at the end=%d; round trips: %d scripts + %d SET "
						+ "= %.2f per record (all commands: %s)%n", name, count, lost, doubled, DoneAtCommit.checked.get(),
						DoneAtCommit.notDone.get(), notDoneNow, counts.scripts(), counts.writes(),
						(counts.scripts() + counts.writes()) / (double) count, monitor.counts());
				assertThat(lost).isZero();
				assertThat(doubled).isZero();
				assertThat(DoneAtCommit.notDone.get()).as("records committed before their DONE").isZero();
				assertThat(notDoneNow).isZero();
				return counts;
			}
			finally {
				DoneAtCommit.watch(null, (id) -> id);
				factory.destroy();
			}
		}
	}

	/** Redis commands counted for a run: records, scripts (claims) and {@code SET}s ({@code DONE} on its own). */
	private record DoneCounts(int records, long scripts, long writes) {
	}

	/** A container customizer that gives every container a record interceptor of its own, replacing the library's. */
	@Configuration(proxyBeanMethods = false)
	static class ReplacedInterceptor {

		@Bean
		ReliableListenerContainerFactoryCustomizer replaceTheRecordInterceptor() {
			return (factory) -> factory.setContainerCustomizer((container) -> container
				.setRecordInterceptor((record, consumer) -> record));
		}

	}

	private long committed(String topic, String group) {
		TopicPartition partition = new TopicPartition(topic, 0);
		return KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(), group, List.of(partition))
			.getOrDefault(partition, -1L);
	}

}
