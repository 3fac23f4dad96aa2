package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.ChildJvm;
import io.github.reliablekafka.testing.KafkaTestSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * The forwarder runs in a child JVM that is SIGKILLed twice while delayed messages are due; a restarted forwarder
 * takes over from the committed offsets.
 */
class DelayForwarderCrashTests {

	@Test
	void aForwarderKilledAndRestartedLosesNothingAndDeliversNothingEarly() throws Exception {
		String prefix = "rk-delay-" + UUID.randomUUID().toString().substring(0, 8) + "-";
		String target = KafkaTestSupport.newTopic("delayed-crash", 3);
		try (ConfigurableApplicationContext sender = DelayTestApplication.start(KafkaTestSupport.bootstrapServers(),
				prefix, List.of(), "reliable.kafka.delay.forwarder.enabled=false")) {
			Map<String, Long> due = DelayedDeliveryTests.send(sender, target, 600, 1_000, 25_000);
			for (int kill = 1; kill <= 2; kill++) {
				try (ChildJvm forwarder = forwarder(prefix)) {
					Thread.sleep(5_000 + kill * 1_000);
					forwarder.kill();
					System.out.printf("forwarder killed (%d)%n", kill);
				}
			}
			try (ChildJvm forwarder = forwarder(prefix)) {
				// lateness is not bounded here: records due while no forwarder ran wait for the next one
				List<ConsumerRecord<String, byte[]>> records = DelayedDeliveryTests.report(due, target,
						Duration.ofSeconds(120), Long.MAX_VALUE);
				long duplicates = records.size()
						- records.stream().map((record) -> RkHeaders.id(record.headers())).distinct().count();
				System.out.printf("forwarder crash test: %d duplicates (forwarded, then killed before the commit)%n",
						duplicates);
			}
		}
	}

	private static ChildJvm forwarder(String prefix) {
		ChildJvm child = ChildJvm.of(DelayTestApplication.class.getName())
			.args(KafkaTestSupport.bootstrapServers(), prefix)
			.start();
		child.awaitLine("STARTED", Duration.ofSeconds(60));
		return child;
	}

}
