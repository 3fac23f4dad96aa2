package io.github.reliablekafka.benchmarks;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;

/**
 * Producer throughput: the reliable producer without the outbox ({@code ReliableKafkaTemplate}: rk-id and
 * created-at headers, outcome tracking, per-key ordering lanes, back-pressure) versus a raw {@code KafkaTemplate},
 * both with the same client settings ({@code acks=all}, idempotence), the same records, in the same run.
 */
final class ProducerBenchmark {

	private static final int RECORDS = 200_000;

	private static final int KEYS = 1_000;

	private static final int ROUNDS = 3;

	private ProducerBenchmark() {
	}

	static String run(String servers) throws Exception {
		String topic = Benchmarks.newTopic(servers, "bench-producer", 3);
		Map<String, Object> config = new HashMap<>();
		config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
		config.put(ProducerConfig.ACKS_CONFIG, "all");
		config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
		config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
		String payload = "{\"n\":0,\"p\":\"" + "x".repeat(80) + "\"}";
		DefaultKafkaProducerFactory<String, String> rawFactory = new DefaultKafkaProducerFactory<>(config,
				new StringSerializer(), new StringSerializer());
		DefaultKafkaProducerFactory<String, byte[]> reliableFactory = new DefaultKafkaProducerFactory<>(config,
				new StringSerializer(), new ByteArraySerializer());
		KafkaTemplate<String, String> raw = new KafkaTemplate<>(rawFactory);
		ReliableKafkaTemplate reliable = ReliableKafkaTemplate.builder(new KafkaTemplate<>(reliableFactory)).build();
		try {
			Function<String, CompletableFuture<?>> rawSend = (key) -> raw.send(topic, key, payload);
			Function<String, CompletableFuture<?>> reliableSend = (key) -> reliable.send(topic, key, payload);
			rate(20_000, rawSend); // warm-up
			rate(20_000, reliableSend);
			double rawBest = 0;
			double reliableBest = 0;
			for (int round = 0; round < ROUNDS; round++) {
				rawBest = Math.max(rawBest, rate(RECORDS, rawSend));
				reliableBest = Math.max(reliableBest, rate(RECORDS, reliableSend));
			}
			System.out.printf("producer benchmark: raw KafkaTemplate %s records/s, ReliableKafkaTemplate %s records/s%n",
					Benchmarks.rate(rawBest), Benchmarks.rate(reliableBest));
			return "## Producer throughput (issue 8)\n\n"
					+ "Asynchronous sends of " + String.format("%,d", RECORDS) + " ~100-byte records over "
					+ String.format("%,d", KEYS) + " keys to a 3-partition topic, timed from the first send to the last "
					+ "acknowledgement; best of " + ROUNDS + " alternating rounds after a warm-up. Both with "
					+ "`acks=all`, idempotence and `linger.ms=5`. The reliable producer without the outbox adds the "
					+ "`rk-id` and `rk-created-at` headers, tracks every outcome, keeps per-key order across its own "
					+ "retries and bounds the sends in flight (10,000).\n\n"
					+ "| Raw `KafkaTemplate` (records/s) | `ReliableKafkaTemplate` (records/s) | Reliable / raw |\n"
					+ "| --- | --- | --- |\n"
					+ String.format("| %s | %s | %s |%n%n", Benchmarks.rate(rawBest), Benchmarks.rate(reliableBest),
							Benchmarks.ratio(reliableBest / rawBest));
		}
		finally {
			((DisposableBean) reliable).destroy();
			rawFactory.destroy();
			reliableFactory.destroy();
		}
	}

	/** Send {@code records} records with {@code send(key)} and time them until the last is acknowledged. */
	private static double rate(int records, Function<String, CompletableFuture<?>> send) throws Exception {
		List<CompletableFuture<?>> sends = new ArrayList<>(records);
		long start = System.nanoTime();
		for (int i = 0; i < records; i++) {
			sends.add(send.apply("key-" + (i % KEYS)));
		}
		CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
		return records / ((System.nanoTime() - start) / 1e9);
	}

}
