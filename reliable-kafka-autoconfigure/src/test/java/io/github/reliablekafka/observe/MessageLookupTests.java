package io.github.reliablekafka.observe;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.autoconfigure.ReliableKafkaAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.observe.ReliableKafkaObserveAutoConfiguration;
import io.github.reliablekafka.consumer.NonRetryableException;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyGuard.KeyState;
import io.github.reliablekafka.idempotency.IdempotencyKeyStrategy;
import io.github.reliablekafka.outbox.OutboxMessage;
import io.github.reliablekafka.outbox.OutboxStatus;
import io.github.reliablekafka.outbox.OutboxTestApplication;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.producer.SendFuture;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TopicWatcher;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * "Where is rk-id X?": the look-up answers for a consumed, a pending, a failed, a dead-lettered and an unknown
 * message, through the actuator endpoint's operations, on a real broker and PostgreSQL (outbox and ledger); operators
 * re-queue a failed row; hostile ids and group lists are refused before any store is asked.
 */
class MessageLookupTests {

	static final List<String> handled = new CopyOnWriteArrayList<>();

	private final List<AutoCloseable> closeables = new ArrayList<>();

	@AfterEach
	void close() throws Exception {
		for (int i = this.closeables.size() - 1; i >= 0; i--) { // the application before its database
			this.closeables.get(i).close();
		}
		handled.clear();
	}

	@Test
	void theLookupAnswersForASentAPendingAFailedADeadLetteredAndAConsumedMessage() throws Exception {
		TestDatabase database = TestDatabase.postgres();
		this.closeables.add(database);
		String topic = KafkaTestSupport.newTopic("lookup", 1);
		String small = KafkaTestSupport.newTopic("lookup-small", 1);
		maxMessageBytes(small, "200");
		try (Admin admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			admin.createTopics(List.of(new NewTopic(topic + ".DLT", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
		}
		String group = "group-" + topic;
		ConfigurableApplicationContext context = OutboxTestApplication.start(List.of(Looked.class), database.url(),
				KafkaTestSupport.bootstrapServers(), "test.topic=" + topic,
				"test.group=" + group, "reliable.kafka.consumer.idempotency.store=jdbc",
				"spring.kafka.consumer.auto-offset-reset=earliest",
				"management.endpoints.web.exposure.include=reliablekafka",
				"management.endpoints.jmx.exposure.include=reliablekafka", "spring.jmx.enabled=true");
		this.closeables.add(context);
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
		ReliableKafkaEndpoint endpoint = context.getBean(ReliableKafkaEndpoint.class);

		SendFuture consumed = transactions.execute((status) -> template.send(topic, "k-1", "ok"));
		SendFuture poison = transactions.execute((status) -> template.send(topic, "k-2", "poison"));
		String pending = template.sendDelayed(topic, "k-3", "later", Duration.ofHours(1)).get(30, TimeUnit.SECONDS)
			.messageId();
		SendFuture failed = template.send(small, "k-4", "x".repeat(1_000));
		String unknown = UUID.randomUUID().toString();
		consumed.get(30, TimeUnit.SECONDS);
		assertThat(failed).failsWithin(Duration.ofSeconds(30));
		try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT")) {
			deadLetters.awaitIds(Set.of(poison.messageId()), Duration.ofSeconds(30));
		}
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.contains("ok"));

		int asked = 0;
		int right = 0;
		// the look-up takes an id in any case: the library keeps ids in lower case
		MessageTrail sent = endpoint.message(consumed.messageId().toUpperCase(java.util.Locale.ROOT), null);
		asked++;
		right += (sent.outbox().row().status() == OutboxStatus.SENT && sent.outbox().row().sentAt() != null
				&& Integer.valueOf(0).equals(sent.outbox().row().sentPartition())
				&& Long.valueOf(0).equals(sent.outbox().row().sentOffset()) && state(sent, group) == KeyState.DONE)
						? 1 : 0;
		// the dead letter is recorded off the consumer's thread, once published
		MessageTrail deadLettered = await().atMost(Duration.ofSeconds(10))
			.until(() -> endpoint.message(poison.messageId(), null),
					(trail) -> trail.deadLetters().found() == MessageTrail.Found.FOUND);
		asked++;
		right += (deadLettered.outbox().row().status() == OutboxStatus.SENT && state(deadLettered, group) != KeyState.DONE
				&& deadLettered.deadLetters().records().size() == 1
				&& deadLettered.deadLetters().records().get(0).group().equals(group)
				&& deadLettered.deadLetters().records().get(0).deadLetter().equals(topic + ".DLT-0@0")
				&& deadLettered.deadLetters().records().get(0).source().startsWith(topic + "-0@")
				&& deadLettered.deadLetters().records().get(0).reason().contains("poison")) ? 1 : 0;
		for (MessageTrail notDeadLettered : List.of(sent, endpoint.message(unknown, null))) {
			asked++;
			right += (notDeadLettered.deadLetters().found() == MessageTrail.Found.ABSENT) ? 1 : 0;
		}
		MessageTrail waiting = endpoint.message(pending, null);
		asked++;
		right += (waiting.outbox().row().status() == OutboxStatus.NEW && state(waiting, group) == KeyState.ABSENT)
				? 1 : 0;
		MessageTrail parked = endpoint.message(failed.messageId(), "another-group");
		asked++;
		right += (parked.outbox().row().status() == OutboxStatus.FAILED && parked.outbox().row().attempts() == 1
				&& parked.outbox().row().lastError().contains("RecordTooLarge") && state(parked, group) == KeyState.ABSENT
				&& state(parked, "another-group") == KeyState.ABSENT) ? 1 : 0;
		MessageTrail nowhere = endpoint.message(unknown, null);
		asked++;
		right += (nowhere.outbox().found() == MessageTrail.Found.ABSENT && state(nowhere, group) == KeyState.ABSENT)
				? 1 : 0;
		// a forged reason cannot grow the record: it is cut to its bound
		assertThat(deadLettered.deadLetters().records().get(0).reason().length())
			.isLessThanOrEqualTo(io.github.reliablekafka.idempotency.DeadLetterRecord.MAX_REASON);
		System.out.printf("look-ups: %d asked, %d right (sent+consumed, dead-lettered, no dead letter x2, pending, "
				+ "failed, unknown)%n"
				+ "  consumed: %s%n  dead-lettered: %s%n  pending: %s%n  failed: %s%n  unknown: %s%n", asked, right,
				sent, deadLettered, waiting, parked, nowhere);
		assertThat(right).isEqualTo(asked);

		// a poison record whose rk-id is forged (10,000 characters, not a message id) is dead-lettered and not kept;
		// the partition flows on
		try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(
				Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestSupport.bootstrapServers()),
				new StringSerializer(), new ByteArraySerializer())) {
			ProducerRecord<String, byte[]> forged = new ProducerRecord<>(topic, "k-5",
					"\"poison\"".getBytes(StandardCharsets.UTF_8));
			forged.headers().add("rk-id", "f".repeat(10_000).getBytes(StandardCharsets.UTF_8));
			raw.send(forged).get(30, TimeUnit.SECONDS);
			raw.send(new ProducerRecord<>(topic, "k-6", "\"after\"".getBytes(StandardCharsets.UTF_8)))
				.get(30, TimeUnit.SECONDS);
		}
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.contains("after"));
		try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT")) {
			assertThat(deadLetters.awaitIds(Set.of(poison.messageId(), "f".repeat(10_000)), Duration.ofSeconds(30)))
				.hasSize(2);
		}
		Thread.sleep(500); // the dead-letter records are written off the consumer's thread
		long kept = new JdbcTemplate(database.dataSource())
			.queryForObject("SELECT COUNT(*) FROM rk_consumed_dead_letter", Long.class);
		System.out.printf("dead letters: 2 published, %d kept (the forged rk-id's not)%n", kept);
		assertThat(kept).isOne();
		assertThat(sent.consumed()).singleElement().satisfies((each) -> assertThat(each.store()).isEqualTo("jdbc"));

		assertThat(endpoint.requeue(consumed.messageId()).requeued()).as("only a FAILED row is re-queued").isFalse();
		assertThat(endpoint.requeue(unknown).requeued()).isFalse();
		maxMessageBytes(small, "1048576");
		MessageLookup.Requeued requeued = endpoint.requeue(failed.messageId());
		System.out.println("re-queued: " + requeued);
		assertThat(requeued.requeued()).isTrue();
		assertThat(requeued.row().status()).isIn(OutboxStatus.NEW, OutboxStatus.SENT);
		await().atMost(Duration.ofSeconds(30))
			.until(() -> endpoint.message(failed.messageId(), null).outbox().row().status() == OutboxStatus.SENT);
		assertThat(endpoint.requeue(failed.messageId()).requeued()).as("re-queued once").isFalse();
	}

	@Test
	void hostileIdsAndGroupListsAreRefusedBeforeAnyStoreIsAsked() {
		AskedOutbox outbox = new AskedOutbox();
		MessageLookup lookup = new MessageLookup(outbox, null, null, Map::of);
		ReliableKafkaEndpoint endpoint = new ReliableKafkaEndpoint(null, null, outbox, List::of, Set::of, null, null,
				lookup);
		List<String> hostile = List.of("", "x", "' OR '1'='1", "0b6f3a52-9c1e-4d2a-8f5e-2b7c9d1e4f6", // one short
				"0b6f3a52-9c1e-4d2a-8f5e-2b7c9d1e4f60' --", "0b6f3a52+9c1e-4d2a-8f5e-2b7c9d1e4f60",
				"0b6f3a52-9c1e-4d2a-8f5e-2b7c9d1e4f6\u0000", "*", "a".repeat(100_000));
		int refused = 0;
		for (String id : hostile) {
			try {
				endpoint.message(id, null);
			}
			catch (InvalidEndpointRequestException expected) {
				refused++;
			}
			try {
				endpoint.requeue(id);
			}
			catch (InvalidEndpointRequestException expected) {
				refused++;
			}
		}
		String id = UUID.randomUUID().toString();
		StringBuilder manyGroups = new StringBuilder();
		for (int i = 0; i <= MessageLookup.MAX_GROUPS; i++) {
			manyGroups.append("g-").append(i).append(',');
		}
		for (String groups : List.of(manyGroups.toString(), "ok," + "g".repeat(256))) {
			try {
				endpoint.message(id, groups);
			}
			catch (InvalidEndpointRequestException expected) {
				refused++;
			}
		}
		System.out.printf("hostile look-ups: %d sent, %d refused, %d reached a store%n", 2 * hostile.size() + 2,
				refused, outbox.asked);
		assertThat(refused).isEqualTo(2 * hostile.size() + 2);
		assertThat(outbox.asked).isZero();
		assertThat(endpoint.message(id, " , ").outbox().found()).isEqualTo(MessageTrail.Found.ABSENT);
		assertThat(outbox.asked).isOne();
	}

	@Test
	void aGroupIsAskedByMessageIdOnlyWhereItsListenerOfTheTopicKeysByMessageId() {
		List<String> asked = new CopyOnWriteArrayList<>();
		IdempotencyGuard guard = new IdempotencyGuard() {

			@Override
			public Outcome execute(String group, String key, Work work) {
				throw new UnsupportedOperationException();
			}

			@Override
			public KeyState state(String group, String key) {
				asked.add(group + " " + key);
				return KeyState.DONE;
			}

			@Override
			public String store() {
				return "test";
			}

		};
		String id = UUID.randomUUID().toString();
		AskedOutbox outbox = new AskedOutbox();
		outbox.row = new OutboxMessage(1, id, "orders", "k", OutboxStatus.SENT, 0, null, java.time.Instant.now(),
				java.time.Instant.now(), java.time.Instant.now(), 0, 5L);
		Map<String, Map<String, IdempotencyKeyStrategy>> groups = Map.of("by-id",
				Map.of("orders", IdempotencyKeyStrategy.MESSAGE_ID), "by-expression",
				Map.of("orders", IdempotencyKeyStrategy.EXPRESSION), "mixed",
				Map.of("orders", IdempotencyKeyStrategy.MESSAGE_ID, "events", IdempotencyKeyStrategy.EXPRESSION),
				"elsewhere", Map.of("events", IdempotencyKeyStrategy.EXPRESSION));
		MessageLookup lookup = new MessageLookup(outbox, guard, IdempotencyKeyStrategy.MESSAGE_ID, () -> groups);
		MessageTrail onOrders = lookup.find(id, List.of("other-application"));
		System.out.println("asked: " + asked + "; answers: " + onOrders.consumed());
		assertThat(onOrders.consumed()).extracting(MessageTrail.Consumed::group, MessageTrail.Consumed::state)
			.containsExactly(org.assertj.core.groups.Tuple.tuple("by-expression", KeyState.UNKNOWN),
					org.assertj.core.groups.Tuple.tuple("by-id", KeyState.DONE),
					org.assertj.core.groups.Tuple.tuple("elsewhere", KeyState.ABSENT),
					org.assertj.core.groups.Tuple.tuple("mixed", KeyState.DONE),
					org.assertj.core.groups.Tuple.tuple("other-application", KeyState.DONE));
		assertThat(onOrders.consumed().get(2).detail()).isEqualTo("its listeners do not read orders");
		assertThat(onOrders.consumed().get(0).detail()).contains("orders", "EXPRESSION");
		assertThat(asked).containsExactlyInAnyOrder("by-id id:" + id, "mixed id:" + id, "other-application id:" + id);
		// without its row the topic is not known: a group with any listener keyed otherwise cannot tell
		outbox.row = null;
		asked.clear();
		MessageTrail unknownTopic = lookup.find(id);
		assertThat(unknownTopic.consumed()).extracting(MessageTrail.Consumed::group, MessageTrail.Consumed::state)
			.containsExactly(org.assertj.core.groups.Tuple.tuple("by-expression", KeyState.UNKNOWN),
					org.assertj.core.groups.Tuple.tuple("by-id", KeyState.DONE),
					org.assertj.core.groups.Tuple.tuple("elsewhere", KeyState.UNKNOWN),
					org.assertj.core.groups.Tuple.tuple("mixed", KeyState.UNKNOWN));
	}

	private static KeyState state(MessageTrail trail, String group) {
		return trail.consumed()
			.stream()
			.filter((each) -> each.group().equals(group))
			.findFirst()
			.map(MessageTrail.Consumed::state)
			.orElse(KeyState.UNKNOWN);
	}

	private static void maxMessageBytes(String topic, String bytes) throws Exception {
		try (Admin admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
					List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", bytes), AlterConfigOp.OpType.SET))))
				.all()
				.get(30, TimeUnit.SECONDS);
		}
	}

	/** An outbox that counts the look-ups that reach it and holds nothing. */
	static final class AskedOutbox implements io.github.reliablekafka.outbox.OutboxOperations {

		int asked;

		io.github.reliablekafka.outbox.OutboxMessage row;

		@Override
		public List<io.github.reliablekafka.outbox.OutboxMessage> failed(int limit) {
			return List.of();
		}

		@Override
		public int requeue(java.util.Collection<Long> ids) {
			return 0;
		}

		@Override
		public int requeueAllFailed() {
			return 0;
		}

		@Override
		public java.util.Optional<io.github.reliablekafka.outbox.OutboxMessage> find(String messageId) {
			this.asked++;
			return java.util.Optional.ofNullable(this.row);
		}

		@Override
		public long pendingCount() {
			return 0;
		}

		@Override
		public long dueCount() {
			return 0;
		}

		@Override
		public Duration oldestPendingAge() {
			return Duration.ZERO;
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ ReliableKafkaAutoConfiguration.class, ReliableKafkaIdempotencyAutoConfiguration.class,
			ReliableKafkaConsumerAutoConfiguration.class, ReliableKafkaObserveAutoConfiguration.class })
	static class Looked {

		@Bean
		Listener listener() {
			return new Listener();
		}

	}

	static class Listener {

		@ReliableListener(id = "looked", topics = "${test.topic}", groupId = "${test.group}")
		void on(ConsumerRecord<String, byte[]> record) {
			String payload = new String(record.value(), StandardCharsets.UTF_8);
			if (payload.contains("poison")) {
				throw new NonRetryableException("poison");
			}
			handled.add(payload.replace("\"", ""));
		}

	}

}
