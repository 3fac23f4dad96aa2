package io.github.reliablekafka.observe;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.autoconfigure.ReliableKafkaAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.doctor.ReliableKafkaDoctorAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.observe.ReliableKafkaObserveAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestRedis;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * Lag, retention warnings, health, the endpoint and replay, on a real broker and a real Redis.
 */
class ObserveTests {

	static final List<String> handled = new CopyOnWriteArrayList<>();

	private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

	@AfterEach
	void close() {
		this.contexts.forEach(ConfigurableApplicationContext::close);
		handled.clear();
	}

	@Test
	void lagIsMeasuredPerPartitionAndTheHealthTurnsAtTheThreshold() throws Exception {
		String topic = KafkaTestSupport.newTopic("observe-lag", 2);
		send(topic, 40, 0, System.currentTimeMillis());
		ConfigurableApplicationContext context = start(topic, "test.auto-startup=false",
				"reliable.kafka.observe.lag-threshold=10");
		ConsumerLagMonitor monitor = context.getBean(ConsumerLagMonitor.class);
		LagSnapshot snapshot = monitor.refresh();
		assertThat(snapshot.partitions()).hasSize(2)
			.allSatisfy((lag) -> assertThat(lag.group()).isEqualTo("group-" + topic));
		assertThat(snapshot.partitions().stream().mapToLong(PartitionLag::lag).sum()).isEqualTo(40);
		MeterRegistry meters = context.getBean(MeterRegistry.class);
		assertThat(meters.find("reliable.kafka.consumer.lag").tag("group", "group-" + topic).gauges())
			.hasSize(2)
			.extracting((gauge) -> gauge.value())
			.asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.list(Double.class))
			.satisfies((values) -> assertThat(values.stream().mapToDouble(Double::doubleValue).sum()).isEqualTo(40.0));
		ReliableKafkaHealthIndicator health = context.getBean(ReliableKafkaHealthIndicator.class);
		Health lagging = health.health();
		System.out.printf("health while lagging: %s%n", lagging);
		assertThat(lagging.getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
		assertThat(lagging.getDetails()).containsKeys("lag", "idempotency");

		Map<String, Object> report = context.getBean(ReliableKafkaEndpoint.class).report();
		System.out.printf("endpoint: %s%n", report);
		assertThat(report).containsKeys("doctor", "listeners", "dispatch", "lag");
		assertThat(report.get("listeners")).asString().contains("id=observed").contains("running=false");
		assertThat(report.get("doctor")).asString().contains("mode=warn").contains("developmentCluster=true");

		context.getBean(KafkaListenerEndpointRegistry.class).getListenerContainer("observed").start();
		await().atMost(Duration.ofSeconds(30)).until(() -> monitor.refresh().maxLag() == 0);
		assertThat(health.health().getStatus()).isEqualTo(Status.UP);
		assertThat(handled).hasSize(40);
	}

	@Test
	void aGroupAboutToLoseRecordsToRetentionIsWarned() throws Exception {
		String topic = KafkaTestSupport.uniqueTopic("observe-retention");
		try (Admin admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("retention.ms", "600000"))))
				.all()
				.get(30, TimeUnit.SECONDS);
		}
		// written nine minutes ago by their timestamps: older than 80% of the 10 min retention
		send(topic, 5, 0, System.currentTimeMillis() - Duration.ofMinutes(9).toMillis());
		ConfigurableApplicationContext context = start(topic, "test.auto-startup=false");
		LagSnapshot snapshot = context.getBean(ConsumerLagMonitor.class).refresh();
		System.out.printf("warnings: %s%n", snapshot.warnings());
		assertThat(snapshot.warnings()).singleElement()
			.asString()
			.contains("group-" + topic)
			.contains("older than 80% of retention.ms=600000");
	}

	@Test
	void replayFromATimestampRedeliversExactlyTheRecordsFromThatTimeOn() throws Exception {
		String topic = KafkaTestSupport.newTopic("observe-replay", 3);
		long cut = System.currentTimeMillis();
		send(topic, 60, 0, cut - 60_000); // before the cut
		send(topic, 40, 60, cut); // at and after it
		ConfigurableApplicationContext context = start(topic, "reliable.kafka.consumer.idempotency.store=none");
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 100);
		handled.clear();
		ReplayResult result = context.getBean(ReplayOperations.class)
			.replay("observed", ReplayFrom.timestamp(Instant.ofEpochMilli(cut)), false);
		System.out.printf("replay: %s%n", result);
		assertThat(result.records()).isEqualTo(40);
		assertThat(result.how()).isEqualTo(ReplayResult.How.SEEK_IN_PLACE);
		assertThat(result.heldElsewhere()).isEmpty();
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() >= 40);
		Thread.sleep(1_000); // nothing more comes
		assertThat(handled).hasSize(40).doesNotHaveDuplicates().allSatisfy((value) -> {
			int number = Integer.parseInt(value.substring(2));
			assertThat(number).isBetween(60, 99);
		});
	}

	@Test
	void aKeyOrderedListenerReplaysInPlaceExactlyTheRecordsFromTheOffset() throws Exception {
		String topic = KafkaTestSupport.newTopic("observe-replay-keyed", 2);
		send(topic, 100, 0, System.currentTimeMillis());
		ConfigurableApplicationContext context = start(topic, "reliable.kafka.consumer.idempotency.store=none",
				"test.ordering=KEY");
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 100);
		handled.clear();
		ReplayResult result = context.getBean(ReplayOperations.class).replay("observed", ReplayFrom.offset(40), false);
		System.out.printf("replay: %s%n", result);
		assertThat(result.how()).isEqualTo(ReplayResult.How.SEEK_IN_PLACE);
		long expected = result.records();
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() >= expected);
		Thread.sleep(1_000); // nothing more comes
		assertThat(handled).hasSize((int) expected).doesNotHaveDuplicates();
		assertThat(context.getBean(KafkaListenerEndpointRegistry.class).getListenerContainer("observed").isRunning())
			.as("replayed in place, never stopped")
			.isTrue();
	}

	@Test
	void partitionsAnotherInstanceHoldsAreNamedAndNotMoved() throws Exception {
		String topic = KafkaTestSupport.newTopic("observe-replay-shared", 4);
		send(topic, 40, 0, System.currentTimeMillis());
		ConfigurableApplicationContext first = start(topic, "reliable.kafka.consumer.idempotency.store=none");
		ConfigurableApplicationContext second = start(topic, "reliable.kafka.consumer.idempotency.store=none");
		await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() >= 40 && seeker(first).size() == 2
				&& seeker(second).size() == 2);
		handled.clear();
		ReplayResult result = first.getBean(ReplayOperations.class).replay("observed", ReplayFrom.beginning(), false);
		System.out.printf("replay with another instance in the group: %s%n", result);
		assertThat(result.how()).isEqualTo(ReplayResult.How.SEEK_IN_PLACE);
		assertThat(result.offsets()).hasSize(2);
		assertThat(result.heldElsewhere()).hasSize(2).allSatisfy((partition, offset) -> assertThat(offset).isZero());
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() >= result.records());
		Thread.sleep(1_000);
		assertThat(handled).as("only the partitions this instance holds came again").hasSize((int) result.records());
	}

	private static java.util.Set<org.apache.kafka.common.TopicPartition> seeker(ConfigurableApplicationContext context) {
		Object listener = context.getBean(KafkaListenerEndpointRegistry.class)
			.getListenerContainer("observed")
			.getContainerProperties()
			.getMessageListener();
		return ((io.github.reliablekafka.internal.PartitionSeeker) listener).assignedPartitions();
	}

	@Test
	void aStoppedListenerHasItsGroupsOffsetsAltered() throws Exception {
		String topic = KafkaTestSupport.newTopic("observe-replay-stopped", 1);
		send(topic, 10, 0, System.currentTimeMillis());
		ConfigurableApplicationContext context = start(topic, "reliable.kafka.consumer.idempotency.store=none");
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 10);
		KafkaListenerEndpointRegistry registry = context.getBean(KafkaListenerEndpointRegistry.class);
		registry.getListenerContainer("observed").stop();
		handled.clear();
		ReplayResult result = context.getBean(ReplayOperations.class).replay("observed", ReplayFrom.offset(7), false);
		assertThat(result.how()).isEqualTo(ReplayResult.How.ALTER_OFFSETS);
		assertThat(KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(), "group-" + topic,
				List.of(new org.apache.kafka.common.TopicPartition(topic, 0))).values()).containsExactly(7L);
		registry.getListenerContainer("observed").start();
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 3);
		assertThat(handled).containsExactly("m-7", "m-8", "m-9");
	}

	@Test
	void replayedRecordsPassTheGuardUnlessTheOperatorBypassesIt() throws Exception {
		String topic = KafkaTestSupport.newTopic("observe-guard", 1);
		send(topic, 20, 0, System.currentTimeMillis());
		ConfigurableApplicationContext context = start(topic, "reliable.kafka.consumer.idempotency.store=redis");
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 20);
		ReplayOperations replay = context.getBean(ReplayOperations.class);

		replay.replay("observed", ReplayFrom.beginning(), false);
		await().atMost(Duration.ofSeconds(30))
			.until(() -> KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(), "group-" + topic,
					List.of(new org.apache.kafka.common.TopicPartition(topic, 0)))
				.values()
				.stream()
				.allMatch((offset) -> offset == 20));
		Thread.sleep(500);
		assertThat(handled).as("the guard skips what already ran").hasSize(20);

		ReplayResult bypassed = replay.replay("observed", ReplayFrom.offset(15), true);
		assertThat(bypassed.records()).isEqualTo(5);
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 25);
		assertThat(handled.subList(20, 25)).containsExactly("m-15", "m-16", "m-17", "m-18", "m-19");
		assertThatIllegalArgumentException().isThrownBy(() -> replay.replay("nope", ReplayFrom.beginning(), false))
			.withMessageContaining("observed");
	}

	private static void send(String topic, int count, int first, long timestamp) throws Exception {
		try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
				Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestSupport.bootstrapServers()),
				new StringSerializer(), new ByteArraySerializer())) {
			for (int i = first; i < first + count; i++) {
				producer.send(new ProducerRecord<>(topic, null, timestamp + (i - first), "k-" + i,
						("m-" + i).getBytes(StandardCharsets.UTF_8)))
					.get();
			}
		}
	}

	private ConfigurableApplicationContext start(String topic, String... properties) {
		TestRedis redis = TestRedis.shared();
		List<String> args = new ArrayList<>(List.of("--spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(),
				"--spring.main.banner-mode=off", "--test.topic=" + topic, "--test.group=group-" + topic,
				"--spring.data.redis.host=" + redis.host(), "--spring.data.redis.port=" + redis.port(),
				"--reliable.kafka.consumer.idempotency.redis-key-prefix=" + redis.keyPrefix()
						+ UUID.randomUUID().toString().substring(0, 8) + ":",
				"--management.endpoints.web.exposure.include=reliablekafka",
				"--management.endpoints.jmx.exposure.include=reliablekafka"));
		for (String property : properties) {
			args.add("--" + property);
		}
		ConfigurableApplicationContext context = new SpringApplicationBuilder(Observed.class, AutoConfigurations.class)
			.web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run(args.toArray(String[]::new));
		this.contexts.add(context);
		return context;
	}

	@ImportAutoConfiguration({ KafkaAutoConfiguration.class, ReliableKafkaAutoConfiguration.class, DataRedisAutoConfiguration.class,
			ReliableKafkaProducerAutoConfiguration.class, ReliableKafkaIdempotencyAutoConfiguration.class,
			ReliableKafkaConsumerAutoConfiguration.class, ReliableKafkaDoctorAutoConfiguration.class,
			ReliableKafkaObserveAutoConfiguration.class })
	static class AutoConfigurations {

	}

	@Configuration(proxyBeanMethods = false)
	static class Observed {

		@Bean
		MeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

		@Bean
		@ConditionalOnProperty(name = "test.ordering", havingValue = "PARTITION", matchIfMissing = true)
		Listener listener() {
			return new Listener();
		}

		@Bean
		@ConditionalOnProperty(name = "test.ordering", havingValue = "KEY")
		KeyedListener keyedListener() {
			return new KeyedListener();
		}

	}

	static class KeyedListener {

		@ReliableListener(id = "observed", topics = "${test.topic}", groupId = "${test.group}", ordering = Ordering.KEY,
				workers = 4)
		void on(ConsumerRecord<String, byte[]> record) {
			handled.add(new String(record.value(), StandardCharsets.UTF_8));
		}

	}

	static class Listener {

		@ReliableListener(id = "observed", topics = "${test.topic}", groupId = "${test.group}",
				autoStartup = "${test.auto-startup:true}")
		void on(ConsumerRecord<String, byte[]> record) {
			handled.add(new String(record.value(), StandardCharsets.UTF_8));
		}

	}

}
