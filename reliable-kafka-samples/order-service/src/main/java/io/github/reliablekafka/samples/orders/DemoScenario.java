package io.github.reliablekafka.samples.orders;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.kafka.support.SendResult;
import org.springframework.stereotype.Component;

/**
 * The demo: places orders through {@link ReliableKafkaTemplate}, reads the topic back and reports sent, delivered,
 * lost and per-key reorders. Its exit code is 0 only when nothing was lost or reordered.
 */
@Component
class DemoScenario implements ApplicationRunner, ExitCodeGenerator {

	static final String TOPIC = "orders";

	private final ReliableKafkaTemplate template;

	private final KafkaProperties kafkaProperties;

	private int exitCode;

	DemoScenario(ReliableKafkaTemplate template, KafkaProperties kafkaProperties) {
		this.template = template;
		this.kafkaProperties = kafkaProperties;
	}

	@Override
	public void run(ApplicationArguments args) throws Exception {
		if (!args.containsOption("demo")) {
			return;
		}
		int orders = Integer.parseInt(args.getOptionValues("demo.orders") != null
				? args.getOptionValues("demo.orders").get(0) : "10000");
		System.out.printf("Placing %,d orders over 100 customers...%n", orders);
		List<CompletableFuture<SendResult<String, byte[]>>> sends = new ArrayList<>();
		for (int i = 0; i < orders; i++) {
			String customer = "customer-" + (i % 100);
			sends.add(this.template.send(TOPIC, customer, new OrderCreated("order-" + i, customer, i / 100)));
			if ((i + 1) % (orders / 10) == 0) {
				System.out.printf("  sent %,d%n", i + 1);
			}
		}
		Set<String> acknowledged = new HashSet<>();
		int failed = 0;
		for (CompletableFuture<SendResult<String, byte[]>> send : sends) {
			try {
				acknowledged.add(RkHeaders.id(send.get().getProducerRecord().headers()));
			}
			catch (Exception ex) {
				failed++;
			}
		}
		Report report = readBack(acknowledged);
		System.out.println();
		System.out.println("reliable-kafka demo report");
		System.out.printf("  sent            %,d%n", orders);
		System.out.printf("  acknowledged    %,d (failed with an error: %,d)%n", acknowledged.size(), failed);
		System.out.printf("  delivered       %,d%n", report.delivered);
		System.out.printf("  duplicates      %,d%n", report.duplicates);
		System.out.printf("  per-key reorders %,d%n", report.reorders);
		System.out.printf("  lost            %,d%n", report.lost);
		this.exitCode = (report.lost == 0 && report.reorders == 0) ? 0 : 1;
		System.out.println(this.exitCode == 0 ? "PASS: nothing lost, nothing reordered" : "FAIL");
	}

	private Report readBack(Set<String> acknowledged) {
		Map<String, Object> config = this.kafkaProperties.buildConsumerProperties();
		config.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-verifier");
		config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
		config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
		Report report = new Report();
		Set<String> seen = new HashSet<>();
		Map<String, Long> lastSequence = new HashMap<>();
		try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
			consumer.subscribe(List.of(TOPIC));
			long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
			while (!seen.containsAll(acknowledged) && System.nanoTime() < deadline) {
				for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
					report.delivered++;
					if (!seen.add(RkHeaders.id(record.headers()))) {
						report.duplicates++;
						continue;
					}
					String json = new String(record.value(), StandardCharsets.UTF_8);
					long sequence = Long.parseLong(json.replaceAll(".*\"sequence\":(\\d+).*", "$1"));
					Long previous = lastSequence.put(record.key(), sequence);
					if (previous != null && previous > sequence) {
						report.reorders++;
					}
				}
			}
		}
		report.lost = acknowledged.stream().filter((id) -> !seen.contains(id)).count();
		return report;
	}

	@Override
	public int getExitCode() {
		return this.exitCode;
	}

	record OrderCreated(String orderId, String customerId, long sequence) {
	}

	static final class Report {

		long delivered;

		long duplicates;

		long reorders;

		long lost;

	}

}
