package io.github.reliablekafka.consumer;

import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.messaging.handler.annotation.Header;

/**
 * A child application for crash tests. Arguments: bootstrap servers, topic, group, and a work time in
 * microseconds. It prints {@code PROCESSED <rk-id>} after each record its listener finished; a record whose value
 * is {@code hang} makes it print {@code HANG <rk-id>} and wait inside the listener until it is killed.
 */
public final class CrashingConsumerApplication {

	private CrashingConsumerApplication() {
	}

	public static void main(String[] args) {
		ConsumerTestApplication.start(args[0], List.of(Listener.class), "test.topic=" + args[1], "test.group=" + args[2],
				"test.work-micros=" + args[3], "spring.kafka.consumer.max-poll-records=200",
				// a killed consumer's partitions move on after 6 s, not the default 45 s
				"spring.kafka.consumer.properties.session.timeout.ms=6000",
				"spring.kafka.consumer.properties.heartbeat.interval.ms=2000");
		System.out.println("STARTED");
	}

	@Configuration(proxyBeanMethods = false)
	static class Listener {

		@Bean
		Worker worker(org.springframework.core.env.Environment environment) {
			return new Worker(Long.parseLong(environment.getRequiredProperty("test.work-micros")));
		}

	}

	static final class Worker {

		private final long workNanos;

		Worker(long workMicros) {
			this.workNanos = workMicros * 1_000;
		}

		@ReliableListener(id = "crash-test", topics = "${test.topic}", groupId = "${test.group}")
		void on(ConsumerRecord<String, byte[]> record, @Header("rk-id") String messageId) throws InterruptedException {
			if ("hang".equals(new String(record.value()))) {
				System.out.println("HANG " + messageId);
				Thread.sleep(Long.MAX_VALUE);
			}
			long until = System.nanoTime() + this.workNanos;
			while (System.nanoTime() < until) {
				Thread.onSpinWait();
			}
			System.out.println("PROCESSED " + messageId);
		}

	}

}
