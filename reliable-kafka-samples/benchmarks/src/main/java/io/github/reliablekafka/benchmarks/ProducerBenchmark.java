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
 * Producer throughput: the reliable producer without the outbox ({@code ReliableKafkaTemplate}: the rk-id header,
 * outcome tracking, per-key ordering lanes, back-pressure) versus a raw {@code KafkaTemplate},
 * both with the same client settings ({@code acks=all}, idempotence), the same records, in the same run.
 */
final class ProducerBenchmark {

	private static final int RECORDS = 500_000;

	private static final int KEYS = 1_000;

	private static final int ROUNDS = Integer.getInteger("bench.producer.rounds", 7);

	/**
	 * Warm-up pairs of full rounds, not counted: with one short warm-up, the first counted round's raw template ran at
	 * about half its later rate (110,000-150,000 records/s against 210,000-320,000 in four runs of 2026-12-07), which
	 * made that round's ratio 0.78x-0.95x against 0.44x-0.75x for the others.
	 */
	/**
	 * Records a contestant sends before the other one takes over, within a round: the two take turns
	 * {@code RECORDS / CHUNK} times a round, each turn ending once its records are acknowledged, so that both meet the
	 * same machine (the raw template's rate moved between 393,219 and 694,190 records/s from one half-round to the next
	 * on 2026-12-07). {@code bench.producer.chunk} equal to the round's records gives one turn each.
	 */
	private static final int CHUNK = Integer.getInteger("bench.producer.chunk", 100_000);

	private static final int WARM_UP_PAIRS = Integer.getInteger("bench.producer.warm-up", 3);

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
		KafkaTemplate<String, byte[]> underReliable = new KafkaTemplate<>(reliableFactory);
		ReliableKafkaTemplate reliable = ReliableKafkaTemplate.builder(underReliable).build();
		try {
			Function<String, CompletableFuture<?>> rawSend = (key) -> raw.send(topic, key, payload);
			Function<String, CompletableFuture<?>> reliableSend = (key) -> reliable.send(topic, key, payload);
			for (int pair = 0; pair < WARM_UP_PAIRS; pair++) { // warm-up: the JIT, the broker's log, the client's pools
				double warmRaw = rate(RECORDS, rawSend);
				double warmReliable = rate(RECORDS, reliableSend);
				System.out.printf("producer benchmark warm-up %d: raw %s, reliable %s records/s%n", pair + 1,
						Benchmarks.rate(warmRaw), Benchmarks.rate(warmReliable));
			}
			double[] raws = new double[ROUNDS];
			double[] reliables = new double[ROUNDS];
			double[] ratios = new double[ROUNDS];
			double rawBytes = 0;
			double reliableBytes = 0;
			for (int round = 0; round < ROUNDS; round++) {
				// alternate which one goes first, so that neither always runs on the warmer machine
				boolean rawFirst = (round % 2 == 0);
				double rawBytesBefore = outgoingBytes(raw);
				double reliableBytesBefore = outgoingBytes(underReliable);
				double[] rates = interleaved(RECORDS, CHUNK, rawSend, reliableSend, rawFirst);
				raws[round] = rates[0];
				reliables[round] = rates[1];
				ratios[round] = reliables[round] / raws[round];
				rawBytes = (outgoingBytes(raw) - rawBytesBefore) / RECORDS;
				reliableBytes = (outgoingBytes(underReliable) - reliableBytesBefore) / RECORDS;
				System.out.printf("producer benchmark round %d: raw %s, reliable %s records/s (%s); bytes on the wire per "
						+ "record: raw %.0f, reliable %.0f%n", round + 1, Benchmarks.rate(raws[round]),
						Benchmarks.rate(reliables[round]), Benchmarks.ratio(ratios[round]), rawBytes, reliableBytes);
			}
			double rawMedian = Benchmarks.median(raws);
			double reliableMedian = Benchmarks.median(reliables);
			double ratio = Benchmarks.median(ratios);
			StringBuilder rounds = new StringBuilder();
			for (double each : ratios) {
				rounds.append((rounds.length() > 0) ? ", " : "").append(Benchmarks.ratio(each));
			}
			System.out.printf("producer benchmark: raw KafkaTemplate %s records/s, ReliableKafkaTemplate %s records/s, "
					+ "median ratio %s (rounds %s)%n", Benchmarks.rate(rawMedian), Benchmarks.rate(reliableMedian),
					Benchmarks.ratio(ratio), rounds);
			return "## Producer throughput (issue 8)\n\n"
					+ "Asynchronous sends of " + String.format("%,d", RECORDS) + " ~100-byte records over "
					+ String.format("%,d", KEYS) + " keys to a 3-partition topic from one thread; " + ROUNDS
					+ " rounds after " + WARM_UP_PAIRS + " uncounted rounds of each. In a round the two take turns of "
					+ String.format("%,d", CHUNK) + " records (alternating which goes first from round to round), "
					+ "each turn timed from its first send to its last acknowledgement, so that both meet the same "
					+ "machine; the table shows each one's median and the median of the rounds' ratios (" + rounds + "). Both with `acks=all`, idempotence and `linger.ms=5`. The reliable "
					+ "producer without the outbox adds the `rk-id` header, tracks every outcome, keeps per-key order "
					+ "across its own retries and bounds the sends in flight (10,000). Bytes on the wire per record: "
					+ "the producer's `outgoing-byte-total` over the records of the last round (batches, requests and "
					+ "headers included).\n\n"
					+ "| Raw `KafkaTemplate` (records/s) | `ReliableKafkaTemplate` (records/s) | Reliable / raw | "
					+ "Bytes per record, raw | Bytes per record, reliable |\n"
					+ "| --- | --- | --- | --- | --- |\n"
					+ String.format("| %s | %s | %s | %.0f | %.0f |%n%n", Benchmarks.rate(rawMedian),
							Benchmarks.rate(reliableMedian), Benchmarks.ratio(ratio), rawBytes, reliableBytes);
		}
		finally {
			((DisposableBean) reliable).destroy();
			rawFactory.destroy();
			reliableFactory.destroy();
		}
	}

	/** The producer's {@code outgoing-byte-total}: every byte it sent to the brokers. */
	private static double outgoingBytes(KafkaTemplate<?, ?> template) {
		return template.metrics()
			.entrySet()
			.stream()
			.filter((entry) -> entry.getKey().name().equals("outgoing-byte-total")
					&& entry.getKey().group().equals("producer-metrics"))
			.mapToDouble((entry) -> ((Number) entry.getValue().metricValue()).doubleValue())
			.sum();
	}

	/**
	 * Run a round in turns of {@code chunk} records, the two contestants alternating (the first as told), and time
	 * each one's turns.
	 * @return the raw template's and the reliable one's rates over the round, records/s
	 */
	private static double[] interleaved(int records, int chunk, Function<String, CompletableFuture<?>> rawSend,
			Function<String, CompletableFuture<?>> reliableSend, boolean rawFirst) throws Exception {
		long rawNanos = 0;
		long reliableNanos = 0;
		for (int sent = 0; sent < records; sent += chunk) {
			int turn = Math.min(chunk, records - sent);
			for (int i = 0; i < 2; i++) {
				boolean rawTurn = (i == 0) == rawFirst;
				long start = System.nanoTime();
				send(turn, rawTurn ? rawSend : reliableSend);
				long took = System.nanoTime() - start;
				if (rawTurn) {
					rawNanos += took;
				}
				else {
					reliableNanos += took;
				}
			}
		}
		return new double[] { records / (rawNanos / 1e9), records / (reliableNanos / 1e9) };
	}

	/** Send {@code records} records with {@code send(key)} and time them until the last is acknowledged. */
	private static double rate(int records, Function<String, CompletableFuture<?>> send) throws Exception {
		long start = System.nanoTime();
		send(records, send);
		return records / ((System.nanoTime() - start) / 1e9);
	}

	private static void send(int records, Function<String, CompletableFuture<?>> send) throws Exception {
		List<CompletableFuture<?>> sends = new ArrayList<>(records);
		for (int i = 0; i < records; i++) {
			sends.add(send.apply("key-" + (i % KEYS)));
		}
		CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
	}

}
