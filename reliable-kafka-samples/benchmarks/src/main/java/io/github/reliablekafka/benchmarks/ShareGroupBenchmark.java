package io.github.reliablekafka.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.autoconfigure.ReliableKafkaAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.GroupType;
import io.github.reliablekafka.consumer.ReliableListener;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.DefaultShareConsumerFactory;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.MessageListener;
import org.springframework.kafka.listener.ShareKafkaMessageListenerContainer;

/**
 * Share groups against key-ordered dispatch on one partition with 2 ms of work per record (a sleep): four
 * applications with a share-group {@code @ReliableListener} of {@code concurrency = 4} (16 share consumers) against
 * one application with {@code @ReliableListener(ordering = KEY, workers = 16)}, the same total concurrency, on the
 * same topic contents. The share consumers are started together once all four applications are up. Rounds alternate;
 * the table shows medians.
 *
 * <p>
 * System properties: {@code bench.share.records} (20,000), {@code bench.share.rounds} (3),
 * {@code bench.share.max-poll-records} (a list; 1, 10 and 100).
 */
final class ShareGroupBenchmark {

	private static final int APPLICATIONS = 4;

	private static final int CONSUMERS_EACH = 4;

	private static final int WORK_MILLIS = 2;

	private ShareGroupBenchmark() {
	}

	static String run(String servers) throws Exception {
		int records = Integer.getInteger("bench.share.records", 20_000);
		int rounds = Integer.getInteger("bench.share.rounds", 3);
		int[] maxPollRecords = java.util.Arrays.stream(System.getProperty("bench.share.max-poll-records", "1,10,100")
			.split(",")).mapToInt((each) -> Integer.parseInt(each.trim())).toArray();
		String topic = Benchmarks.newTopic(servers, "bench-share", 1);
		Benchmarks.produce(servers, topic, records, 10_000);
		DispatchBenchmark.workMillis = WORK_MILLIS;
		double[] dispatched = new double[rounds];
		double[] plain = new double[rounds];
		double[][] shared = new double[maxPollRecords.length][rounds];
		for (int round = 0; round < rounds; round++) {
			dispatched[round] = DispatchBenchmark.application("keyed", servers, topic, 1, records, 100 + round);
			plain[round] = plainShare(servers, topic, records, round);
			for (int m = 0; m < maxPollRecords.length; m++) {
				shared[m][round] = share(servers, topic, records, maxPollRecords[m], round);
			}
			StringBuilder line = new StringBuilder("share benchmark round " + (round + 1) + ": dispatcher "
					+ Benchmarks.rate(dispatched[round]) + ", plain spring-kafka share " + Benchmarks.rate(plain[round]));
			for (int m = 0; m < maxPollRecords.length; m++) {
				line.append(", share (max-poll-records=").append(maxPollRecords[m]).append(") ")
					.append(Benchmarks.rate(shared[m][round]));
			}
			System.out.println(line);
		}
		double dispatcher = Benchmarks.median(dispatched);
		StringBuilder table = new StringBuilder();
		table.append("## Share groups against key-ordered dispatch (issue 24)\n\n")
			.append("Records/s, one partition, ").append(String.format("%,d", records))
			.append(" records (~100-byte values), 2 ms of work each (a sleep), medians of ").append(rounds)
			.append(" alternating rounds. Key-ordered: one application, `@ReliableListener(ordering = KEY, workers = 16)`. ")
			.append("Share group: four applications, each `@ReliableListener(group = GroupType.SHARE, concurrency = 4)`, ")
			.append("16 share consumers in all, started together; `reliable.kafka.consumer.share.max-poll-records` as ")
			.append("shown (each share consumer runs one record at a time and acknowledges it on its own). No idempotency ")
			.append("guard. Plain spring-kafka share container: `ShareKafkaMessageListenerContainer`, `concurrency = 16`, ")
			.append("explicit acknowledgement, Kafka's share-consumer defaults (`share.acquire.mode=batch_optimized`), no ")
			.append("retries, dead letters or delivery-count limit handling. Ideal for 16 at 2 ms: 8,000 records/s.\n\n")
			.append("| Contestant | Records/s | Against key-ordered | Rounds |\n| --- | --- | --- | --- |\n");
		table.append(String.format("| Key-ordered dispatch, 16 workers | %s | 1.00x | %s |%n", Benchmarks.rate(dispatcher),
				rounds(dispatched)));
		double plainShare = Benchmarks.median(plain);
		table.append(String.format("| Plain spring-kafka share container, 16 consumers, Kafka's defaults | %s | %s | %s |%n",
				Benchmarks.rate(plainShare), Benchmarks.ratio(plainShare / dispatcher), rounds(plain)));
		for (int m = 0; m < maxPollRecords.length; m++) {
			double share = Benchmarks.median(shared[m]);
			table.append(String.format("| Share group, 4 x 4 consumers, max-poll-records=%d | %s | %s | %s |%n",
					maxPollRecords[m], Benchmarks.rate(share), Benchmarks.ratio(share / dispatcher), rounds(shared[m])));
		}
		return table.append('\n').toString();
	}

	private static String rounds(double[] values) {
		List<String> each = new ArrayList<>();
		for (double value : values) {
			each.add(Benchmarks.rate(value));
		}
		return String.join(", ", each);
	}

	/** spring-kafka's own share container, Kafka's defaults, the same 16 consumers and work. */
	private static double plainShare(String servers, String topic, int records, int round) throws Exception {
		Meter meter = new Meter(records);
		String group = "plain-share-" + round + "-" + topic;
		try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers))) {
			admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group),
					List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
							AlterConfigOp.OpType.SET))))
				.all()
				.get();
		}
		Map<String, Object> config = new HashMap<>();
		config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
		ContainerProperties properties = new ContainerProperties(topic);
		properties.setGroupId(group);
		properties.setMessageListener((MessageListener<String, byte[]>) (record) -> {
			Benchmarks.work(WORK_MILLIS);
			meter.hit();
		});
		ShareKafkaMessageListenerContainer<String, byte[]> container = new ShareKafkaMessageListenerContainer<>(
				new DefaultShareConsumerFactory<>(config, new StringDeserializer(), new ByteArrayDeserializer(), false),
				properties);
		container.setBeanName(group);
		container.setConcurrency(APPLICATIONS * CONSUMERS_EACH);
		container.start();
		try {
			return meter.await(Duration.ofMinutes(10));
		}
		finally {
			container.stop();
		}
	}

	private static double share(String servers, String topic, int records, int maxPollRecords, int round)
			throws Exception {
		DispatchBenchmark.meter = new Meter(records);
		String group = "share-" + maxPollRecords + "-" + round + "-" + topic;
		List<ConfigurableApplicationContext> contexts = new ArrayList<>();
		try {
			for (int i = 0; i < APPLICATIONS; i++) {
				contexts.add(new SpringApplicationBuilder(ShareApp.class).web(WebApplicationType.NONE)
					.logStartupInfo(false)
					.run("--spring.kafka.bootstrap-servers=" + servers, "--bench.topic=" + topic, "--bench.group=" + group,
							"--spring.main.banner-mode=off", "--reliable.kafka.consumer.idempotency.store=none",
							"--reliable.kafka.consumer.share.max-poll-records=" + maxPollRecords));
			}
			for (ConfigurableApplicationContext context : contexts) {
				context.getBean(KafkaListenerEndpointRegistry.class).getListenerContainer("bench-share").start();
			}
			return DispatchBenchmark.meter.await(Duration.ofMinutes(10));
		}
		finally {
			contexts.forEach(ConfigurableApplicationContext::close);
		}
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ KafkaAutoConfiguration.class, ReliableKafkaAutoConfiguration.class,
			ReliableKafkaProducerAutoConfiguration.class, ReliableKafkaIdempotencyAutoConfiguration.class,
			ReliableKafkaConsumerAutoConfiguration.class })
	static class ShareApp {

		@Bean
		ShareListener shareListener() {
			return new ShareListener();
		}

	}

	static final class ShareListener {

		@ReliableListener(id = "bench-share", topics = "${bench.topic}", groupId = "${bench.group}",
				concurrency = "" + CONSUMERS_EACH, autoStartup = "false", group = GroupType.SHARE)
		void on(ConsumerRecord<String, byte[]> record) {
			Benchmarks.work(WORK_MILLIS);
			DispatchBenchmark.meter.hit();
		}

	}

}
