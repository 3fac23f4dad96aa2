package io.github.reliablekafka.consumer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TopicWatcher;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.listener.AbstractConsumerSeekAware;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.kafka.support.converter.ConversionException;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reliable listeners on a real broker: payload conversion, retries, dead letters, poison and null payloads.
 */
class ReliableListenerTests {

	static final Map<String, BlockingQueue<Object>> received = new ConcurrentHashMap<>();

	static final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();

	private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

	@AfterEach
	void close() {
		this.contexts.forEach(ConfigurableApplicationContext::close);
		received.clear();
		attempts.clear();
	}

	private ConfigurableApplicationContext start(Class<?> listeners, String topic, String... properties) {
		List<String> all = new ArrayList<>(List.of("test.topic=" + topic, "test.group=group-" + topic));
		all.addAll(List.of(properties));
		ConfigurableApplicationContext context = ConsumerTestApplication.start(KafkaTestSupport.bootstrapServers(),
				List.of(listeners, Metrics.class), all.toArray(String[]::new));
		this.contexts.add(context);
		return context;
	}

	static BlockingQueue<Object> queue(String name) {
		return received.computeIfAbsent(name, (n) -> new LinkedBlockingQueue<>());
	}

	@Test
	void payloadIsReadIntoTheDeclaredTypeWithItsMessageId() throws Exception {
		String topic = KafkaTestSupport.newTopic("listener-types", 1);
		ConfigurableApplicationContext context = start(TypedListeners.class, topic);
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		String first = template.send(topic, "o-1", new OrderPaid("o-1", 250)).messageId();
		String second = template.send(topic, "o-2", new OrderPaid("o-2", 300)).messageId();
		assertThat(queue("typed").poll(30, TimeUnit.SECONDS)).isEqualTo(new OrderPaid("o-1", 250));
		assertThat(queue("typed").poll(30, TimeUnit.SECONDS)).isEqualTo(new OrderPaid("o-2", 300));
		assertThat(queue("typed-id").poll(30, TimeUnit.SECONDS)).isEqualTo(first);
		assertThat(queue("typed-id").poll(30, TimeUnit.SECONDS)).isEqualTo(second);
		assertThat(queue("raw").poll(30, TimeUnit.SECONDS)).isEqualTo("{\"amount\":250,\"orderId\":\"o-1\"}");
		assertThat(queue("record").poll(30, TimeUnit.SECONDS)).isInstanceOf(ConsumerRecord.class);
		assertThat(queue("plain").poll(30, TimeUnit.SECONDS)).as("a plain @KafkaListener keeps working").isNotNull();
	}

	@Test
	void aFailingRecordIsRetriedThenDeadLetteredWithItsReasonAndTheNextOnesFlow() throws Exception {
		String topic = KafkaTestSupport.newTopic("listener-retry", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		ConfigurableApplicationContext context = start(FailingListener.class, topic);
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		String failing = template.send(topic, "k", "fail").messageId();
		template.send(topic, "k", "ok-1");
		assertThat(queue("failing").poll(30, TimeUnit.SECONDS)).isEqualTo("ok-1");
		assertThat(attempts.get("fail").get()).as("3 attempts, the default").isEqualTo(3);
		try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT")) {
			ConsumerRecord<String, byte[]> dead = deadLetters.awaitIds(Set.of(failing), Duration.ofSeconds(30)).get(0);
			assertThat(new String(dead.value(), StandardCharsets.UTF_8)).isEqualTo("fail");
			assertThat(header(dead, KafkaHeaders.DLT_EXCEPTION_FQCN)).contains("ListenerExecutionFailedException");
			assertThat(header(dead, KafkaHeaders.DLT_EXCEPTION_CAUSE_FQCN)).isEqualTo(IllegalStateException.class.getName());
			assertThat(header(dead, KafkaHeaders.DLT_EXCEPTION_MESSAGE)).contains("cannot handle fail");
			assertThat(header(dead, KafkaHeaders.DLT_EXCEPTION_STACKTRACE)).contains("FailingBean");
			assertThat(header(dead, KafkaHeaders.DLT_ORIGINAL_TOPIC)).isEqualTo(topic);
		}
		MeterRegistry meters = context.getBean(MeterRegistry.class);
		await().untilAsserted(() -> {
			assertThat(count(meters, "failing", "retried")).isEqualTo(2);
			assertThat(count(meters, "failing", "dead-lettered")).isEqualTo(1);
			assertThat(count(meters, "failing", "success")).isEqualTo(1);
		});
		await().untilAsserted(() -> assertThat(committed(topic, "group-" + topic)).isEqualTo(2));
	}

	@Test
	void poisonIsDeadLetteredAtOnce() throws Exception {
		String topic = KafkaTestSupport.newTopic("listener-poison", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		ConfigurableApplicationContext context = start(TypedPoisonListener.class, topic);
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		String malformed = template.send(topic, "k", "{\"orderId\": \"o-1\", \"amount\":").messageId();
		String wrongType = template.send(topic, "k", "{\"orderId\": \"o-2\", \"amount\": \"a lot\"}").messageId();
		String invalid = template.send(topic, "k", new OrderPaid("o-3", -1)).messageId();
		template.send(topic, "k", new OrderPaid("o-4", 10));
		assertThat(queue("poison").poll(30, TimeUnit.SECONDS)).isEqualTo(new OrderPaid("o-4", 10));
		assertThat(attempts.getOrDefault("invalid", new AtomicInteger()).get()).as("not retried").isEqualTo(1);
		try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT")) {
			List<ConsumerRecord<String, byte[]>> dead = deadLetters.awaitIds(List.of(malformed, wrongType, invalid),
					Duration.ofSeconds(30));
			assertThat(dead).extracting((record) -> header(record, KafkaHeaders.DLT_EXCEPTION_CAUSE_FQCN))
				.containsExactly(ConversionException.class.getName(), ConversionException.class.getName(),
						NonRetryableException.class.getName());
			assertThat(header(dead.get(0), KafkaHeaders.DLT_EXCEPTION_MESSAGE)).contains("Cannot read the payload")
				.contains(OrderPaid.class.getName());
		}
	}

	@Test
	void nullPayloadsAreSkippedAndCommittedByDefault() throws Exception {
		String topic = KafkaTestSupport.newTopic("listener-null", 1);
		ConfigurableApplicationContext context = start(StringListener.class, topic);
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		template.send(topic, "k", null);
		template.send(topic, "k", new byte[0]);
		template.send(topic, "k", "after");
		assertThat(queue("strings").poll(30, TimeUnit.SECONDS)).isEqualTo("after");
		assertThat(queue("strings")).isEmpty();
		await().untilAsserted(() -> {
			assertThat(count(context.getBean(MeterRegistry.class), "strings", "skipped")).isEqualTo(2);
			assertThat(committed(topic, "group-" + topic)).isEqualTo(3);
		});
	}

	@Test
	void nullPayloadsCanBeDeadLetteredOrDelivered() throws Exception {
		String deadLettered = KafkaTestSupport.newTopic("listener-null-dlt", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), deadLettered + ".DLT", 1, 1);
		ConfigurableApplicationContext context = start(StringListener.class, deadLettered,
				"reliable.kafka.consumer.null-payload=dead-letter");
		String tombstone = context.getBean(ReliableKafkaTemplate.class).send(deadLettered, "k", null).messageId();
		try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), deadLettered + ".DLT")) {
			deadLetters.awaitIds(Set.of(tombstone), Duration.ofSeconds(30));
		}
		String delivered = KafkaTestSupport.newTopic("listener-null-deliver", 1);
		ConfigurableApplicationContext other = start(NullableListener.class, delivered,
				"reliable.kafka.consumer.null-payload=deliver");
		other.getBean(ReliableKafkaTemplate.class).send(delivered, "k", null);
		assertThat(queue("nullable").poll(30, TimeUnit.SECONDS)).isEqualTo("<null>");
	}

	@Test
	void theConsumerGroupProtocolOfKip848Works() throws Exception {
		String topic = KafkaTestSupport.newTopic("listener-kip848", 2);
		ConfigurableApplicationContext context = start(StringListener.class, topic,
				"spring.kafka.consumer.properties[group.protocol]=consumer");
		context.getBean(ReliableKafkaTemplate.class).send(topic, "k", "hello");
		assertThat(queue("strings").poll(60, TimeUnit.SECONDS)).isEqualTo("hello");
	}

	private static String header(ConsumerRecord<String, byte[]> record, String name) {
		return RkHeaders.text(record.headers(), name);
	}

	private static double count(MeterRegistry meters, String listener, String result) {
		var counter = meters.find("reliable.kafka.consumer.records").tags("listener", listener, "result", result).counter();
		return (counter != null) ? counter.count() : 0;
	}

	private static long committed(String topic, String group) {
		return KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(), group,
				List.of(new TopicPartition(topic, 0))).getOrDefault(new TopicPartition(topic, 0), 0L);
	}

	record OrderPaid(String orderId, long amount) {
	}

	@Configuration(proxyBeanMethods = false)
	static class Metrics {

		@Bean
		SimpleMeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

	}

	@Test
	void aSeekAwareListenerKeepsItsCallbacksUnderTheLibrarysWrappers() throws Exception {
		String topic = KafkaTestSupport.newTopic("listener-seek-aware", 2);
		ConfigurableApplicationContext context = start(SeekAwareListeners.class, topic);
		SeekAwareBean bean = context.getBean(SeekAwareBean.class);
		await().untilAsserted(() -> assertThat(bean.assigned()).containsExactlyInAnyOrder(
				new TopicPartition(topic, 0), new TopicPartition(topic, 1)));
		context.getBean(ReliableKafkaTemplate.class).sendAndWait(topic, "k", "one");
		assertThat(queue("seek-aware").poll(30, TimeUnit.SECONDS)).isEqualTo("one");
		bean.seekToBeginning(); // through the callbacks the container gave the application's listener
		assertThat(queue("seek-aware").poll(30, TimeUnit.SECONDS)).as("read again after its own seek").isEqualTo("one");
	}

	@Configuration(proxyBeanMethods = false)
	static class SeekAwareListeners {

		@Bean
		SeekAwareBean seekAwareBean() {
			return new SeekAwareBean();
		}

	}

	static class SeekAwareBean extends AbstractConsumerSeekAware {

		@ReliableListener(id = "seek-aware", topics = "${test.topic}", groupId = "${test.group}")
		void on(String payload) {
			queue("seek-aware").add(payload);
		}

		Set<TopicPartition> assigned() {
			return getTopicsAndCallbacks().keySet();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class TypedListeners {

		@Bean
		TypedBean typedListeners() {
			return new TypedBean();
		}

	}

	public static class TypedBean {

		@ReliableListener(id = "typed", topics = "${test.topic}", groupId = "${test.group}-typed")
		public void typed(OrderPaid paid, @Header(RkHeaders.ID) String messageId) {
			queue("typed").add(paid);
			queue("typed-id").add(messageId);
		}

		@ReliableListener(id = "raw", topics = "${test.topic}", groupId = "${test.group}-raw")
		public void raw(String json) {
			queue("raw").add(json);
		}

		@ReliableListener(id = "record", topics = "${test.topic}", groupId = "${test.group}-record")
		public void record(ConsumerRecord<String, byte[]> record) {
			queue("record").add(record);
		}

		@KafkaListener(id = "plain", topics = "${test.topic}", groupId = "${test.group}-plain",
				properties = "auto.offset.reset=earliest")
		public void plain(String value) {
			queue("plain").add(value);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class FailingListener {

		@Bean
		FailingBean failingListener() {
			return new FailingBean();
		}

	}

	public static class FailingBean {

		@ReliableListener(id = "failing", topics = "${test.topic}", groupId = "${test.group}")
		public void on(String value) {
			attempts.computeIfAbsent(value, (v) -> new AtomicInteger()).incrementAndGet();
			if (value.equals("fail")) {
				throw new IllegalStateException("cannot handle " + value);
			}
			queue("failing").add(value);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class TypedPoisonListener {

		@Bean
		PoisonBean poisonListener() {
			return new PoisonBean();
		}

	}

	public static class PoisonBean {

		@ReliableListener(id = "poison", topics = "${test.topic}", groupId = "${test.group}")
		public void on(OrderPaid paid) {
			if (paid.amount() < 0) {
				attempts.computeIfAbsent("invalid", (v) -> new AtomicInteger()).incrementAndGet();
				throw new NonRetryableException("amount must not be negative: " + paid.amount());
			}
			queue("poison").add(paid);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class StringListener {

		@Bean
		StringBean stringListener() {
			return new StringBean();
		}

	}

	public static class StringBean {

		@ReliableListener(id = "strings", topics = "${test.topic}", groupId = "${test.group}")
		public void on(String value) {
			queue("strings").add(value);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class NullableListener {

		@Bean
		NullableBean nullableListener() {
			return new NullableBean();
		}

	}

	public static class NullableBean {

		@ReliableListener(id = "nullable", topics = "${test.topic}", groupId = "${test.group}")
		public void on(@Payload(required = false) String value) {
			queue("nullable").add((value != null) ? value : "<null>");
		}

	}

}
