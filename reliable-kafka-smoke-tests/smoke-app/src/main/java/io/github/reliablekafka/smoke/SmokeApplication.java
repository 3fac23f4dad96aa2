package io.github.reliablekafka.smoke;

import java.time.Duration;

import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.support.SendResult;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.stereotype.Component;

/**
 * A first application, as a user writes it from the quick start: it sends one message with the
 * {@link ReliableKafkaTemplate} and receives it with a {@link ReliableListener}, and with a key-ordered one in a
 * second group; with {@code smoke.delay} set, it also sends one with that delay. It prints {@code SMOKE SENT},
 * {@code SMOKE SCHEDULED}, {@code SMOKE RECEIVED} and {@code SMOKE KEY-ORDERED RECEIVED} lines for the test that
 * started it; everything else it prints is the library's and Spring
 * Boot's own logging.
 */
@SpringBootApplication
public class SmokeApplication {

	public static void main(String[] args) {
		SpringApplication.run(SmokeApplication.class, args);
	}

	@Bean
	ApplicationRunner sendOne(ReliableKafkaTemplate kafka, @Value("${smoke.topic}") String topic,
			@Value("${smoke.send:true}") boolean send, @Value("${smoke.delay:0s}") Duration delay) {
		return (args) -> {
			if (send) {
				SendResult<String, byte[]> result = kafka.sendAndWait(topic, "k1", new Ping("first run"));
				System.out.println("SMOKE SENT to " + result.getRecordMetadata().topic() + "-"
						+ result.getRecordMetadata().partition() + "@" + result.getRecordMetadata().offset());
			}
			if (!delay.isZero()) {
				System.out.println("SMOKE SCHEDULED for " + kafka.sendDelayed(topic, "k2", new Ping("delayed"), delay)
					.get()
					.dueAt()
					.toEpochMilli());
			}
		};
	}

	@ReliableListener(topics = "${smoke.topic}", groupId = "${smoke.group:smoke}")
	public void on(Ping ping, @Header("rk-id") String messageId) {
		System.out.println("SMOKE RECEIVED '" + ping.text() + "' rk-id " + messageId);
	}

	/**
	 * The key-ordered listener, in a group of its own; {@code smoke.by-key=false} leaves it out.
	 */
	@Component
	@ConditionalOnProperty(name = "smoke.by-key", matchIfMissing = true)
	public static class ByKey {

		@ReliableListener(topics = "${smoke.topic}", groupId = "${smoke.group:smoke}-by-key", ordering = Ordering.KEY)
		public void on(Ping ping, @Header("rk-id") String messageId) {
			System.out.println("SMOKE KEY-ORDERED RECEIVED '" + ping.text() + "' rk-id " + messageId + " on "
					+ Thread.currentThread().getName());
		}

	}

	/**
	 * The message.
	 *
	 * @param text what it says
	 */
	public record Ping(String text) {
	}

}
