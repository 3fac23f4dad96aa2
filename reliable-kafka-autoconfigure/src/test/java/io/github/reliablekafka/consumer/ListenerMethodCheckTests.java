package io.github.reliablekafka.consumer;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import io.github.reliablekafka.testing.KafkaTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.messaging.handler.annotation.Header;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Reliable listener methods the library cannot serve stop the application at startup, naming the class and the
 * method, with Spring Boot's failure report: they used to start and send every record to the dead-letter topic.
 */
@ExtendWith(OutputCaptureExtension.class)
class ListenerMethodCheckTests {

	@Test
	void aListenerWithTwoPayloadParametersRefusesToStart(CapturedOutput output) {
		ReliableKafkaConfigurationException refusal = refused(TwoPayloads.class);
		assertThat(refusal.getDescription())
			.contains("Reliable listener method TwoPayloadListener.on has 2 payload parameters (Order order, "
					+ "Customer customer)");
		assertThat(refusal.getAction()).contains("@Header");
		assertThat(output).as("Spring Boot's failure report")
			.contains("APPLICATION FAILED TO START")
			.contains("Description:")
			.contains("TwoPayloadListener.on has 2 payload parameters")
			.contains("Action:");
	}

	@Test
	void aBatchListenerRefusesToStart() {
		assertThat(refused(ListPayload.class).getDescription()).contains("ListPayloadListener.on takes java.util.List");
		assertThat(refused(Plain.class, "spring.kafka.listener.type=batch").getDescription())
			.contains("PlainListener.on is on a batch container");
	}

	@Test
	void anAsynchronousListenerRefusesToStart() {
		assertThat(refused(AsyncReturn.class).getDescription())
			.contains("AsyncListener.on returns CompletableFuture");
	}

	@Test
	void anIdempotencyKeyThatDoesNotParseRefusesToStart() {
		assertThat(refused(BadKey.class).getDescription()).contains("BadKeyListener.on has idempotencyKey")
			.contains("does not parse");
	}

	@Test
	void aPayloadWithHeadersAndTheRecordStarts() throws Exception {
		String topic = KafkaTestSupport.newTopic("check-good", 1);
		ConsumerTestApplication.start(KafkaTestSupport.bootstrapServers(), List.of(Plain.class), "test.topic=" + topic)
			.close();
	}

	private static ReliableKafkaConfigurationException refused(Class<?> listener, String... properties) {
		String topic = KafkaTestSupport.uniqueTopic("check-refused");
		String[] all = new String[properties.length + 1];
		all[0] = "test.topic=" + topic;
		System.arraycopy(properties, 0, all, 1, properties.length);
		Throwable[] failure = new Throwable[1];
		assertThatThrownBy(() -> ConsumerTestApplication.start(KafkaTestSupport.bootstrapServers(), List.of(listener),
				all).close()).satisfies((ex) -> failure[0] = ex);
		Throwable cause = failure[0];
		while (cause != null && !(cause instanceof ReliableKafkaConfigurationException)) {
			cause = cause.getCause();
		}
		assertThat(cause).as("the refusal in %s", failure[0]).isInstanceOf(ReliableKafkaConfigurationException.class);
		return (ReliableKafkaConfigurationException) cause;
	}

	record Order(String id) {
	}

	record Customer(String name) {
	}

	@Configuration(proxyBeanMethods = false)
	static class TwoPayloads {

		@Bean
		TwoPayloadListener listener() {
			return new TwoPayloadListener();
		}

	}

	static class TwoPayloadListener {

		@ReliableListener(topics = "${test.topic}", groupId = "check")
		void on(Order order, Customer customer) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ListPayload {

		@Bean
		ListPayloadListener listener() {
			return new ListPayloadListener();
		}

	}

	static class ListPayloadListener {

		@ReliableListener(topics = "${test.topic}", groupId = "check")
		void on(List<Order> orders) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class AsyncReturn {

		@Bean
		AsyncListener listener() {
			return new AsyncListener();
		}

	}

	static class AsyncListener {

		@ReliableListener(topics = "${test.topic}", groupId = "check")
		CompletableFuture<Void> on(Order order) {
			return CompletableFuture.completedFuture(null);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class BadKey {

		@Bean
		BadKeyListener listener() {
			return new BadKeyListener();
		}

	}

	static class BadKeyListener {

		@ReliableListener(topics = "${test.topic}", groupId = "check", idempotencyKey = "#payload.id +")
		void on(Order order) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class Plain {

		@Bean
		PlainListener listener() {
			return new PlainListener();
		}

	}

	static class PlainListener {

		@ReliableListener(topics = "${test.topic}", groupId = "check")
		void on(Order order, @Header("rk-id") String messageId,
				org.apache.kafka.clients.consumer.ConsumerRecord<String, byte[]> record) {
		}

	}

}
