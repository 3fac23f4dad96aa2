package io.github.reliablekafka.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelConsumerOptions.CommitMode;
import io.confluent.parallelconsumer.ParallelConsumerOptions.ProcessingOrder;
import io.confluent.parallelconsumer.ParallelStreamProcessor;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.dispatch.Ordering;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.MessageListener;

/**
 * The key-ordered dispatcher against a plain spring-kafka listener (one thread per partition) and Confluent
 * Parallel Consumer in KEY order with the same concurrency, on the same topic contents: 1 and 12 partitions,
 * 10,000 keys, work of 0 ms and 2 ms (a sleep).
 */
final class DispatchBenchmark {

	private static final int KEYS = 10_000;

	private static final int WORKERS = 16;

	static volatile Meter meter;

	static volatile int workMillis;

	private DispatchBenchmark() {
	}

	static String run(String servers) throws Exception {
		StringBuilder table = new StringBuilder();
		table.append("## Key-ordered dispatch (issue 6)\n\n")
			.append("Records/s; the same records (10,000 keys, ~100-byte values) consumed by each in turn. ")
			.append("Plain listener: spring-kafka, one thread per partition (`concurrency` = partitions). ")
			.append("Parallel Consumer 0.5.3.3: KEY order, `maxConcurrency` = 16 x partitions. Dispatcher: ")
			.append("`@ReliableListener(ordering = KEY, workers = 16)` with `concurrency` = partitions like the plain ")
			.append("listener, 16 lanes per partition, at most 256 threads. ")
			.append("Targets: dispatcher >= 1.2x Parallel Consumer; on 1 partition at 2 ms >= 0.9x of the ideal ")
			.append("16 / 2 ms = 8,000 records/s; >= 0.7x the plain listener at 0 ms.\n\n")
			.append("| Partitions | Work | Records | Plain listener | Parallel Consumer | Dispatcher | ")
			.append("Dispatcher / Parallel Consumer | Dispatcher / plain | Dispatcher / ideal |\n")
			.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
		for (int partitions : ints(System.getProperty("bench.partitions", "1,12"))) {
			for (int work : ints(System.getProperty("bench.work", "0,2"))) {
				int records = Integer.getInteger("bench.records", (work == 0) ? 100_000 : 20_000);
				String topic = Benchmarks.newTopic(servers, "bench-dispatch", partitions);
				Benchmarks.produce(servers, topic, records, KEYS);
				workMillis = work;
				boolean peers = !Boolean.getBoolean("bench.dispatcher-only");
				double plain = peers ? plain(servers, topic, partitions, records) : Double.NaN;
				double parallel = peers ? parallelConsumer(servers, topic, partitions, records) : Double.NaN;
				double dispatcher = dispatcher(servers, topic, partitions, records);
				double ideal = (work == 0) ? Double.NaN : Math.min(256, WORKERS * partitions) * 1000.0 / work;
				String line = String.format("| %d | %d ms | %,d | %s | %s | %s | %s | %s | %s |%n", partitions, work,
						records, Benchmarks.rate(plain), Benchmarks.rate(parallel), Benchmarks.rate(dispatcher),
						Benchmarks.ratio(dispatcher / parallel), Benchmarks.ratio(dispatcher / plain),
						Double.isNaN(ideal) ? "-" : Benchmarks.ratio(dispatcher / ideal));
				System.out.print("dispatch benchmark " + line);
				table.append(line);
			}
		}
		return table.append('\n').toString();
	}

	private static int[] ints(String list) {
		return java.util.Arrays.stream(list.split(",")).mapToInt((each) -> Integer.parseInt(each.trim())).toArray();
	}

	private static Map<String, Object> consumerConfig(String servers, String group) {
		Map<String, Object> config = new HashMap<>();
		config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
		config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
		config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
		config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
		config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		return config;
	}

	static double plain(String servers, String topic, int partitions, int records) throws Exception {
		Meter meter = new Meter(records);
		ContainerProperties properties = new ContainerProperties(topic);
		properties.setMessageListener((MessageListener<String, String>) (record) -> {
			Benchmarks.work(workMillis);
			meter.hit();
		});
		ConcurrentMessageListenerContainer<String, String> container = new ConcurrentMessageListenerContainer<>(
				new DefaultKafkaConsumerFactory<>(consumerConfig(servers, "plain-" + topic)), properties);
		container.setConcurrency(partitions);
		container.start();
		try {
			return meter.await(Duration.ofMinutes(10));
		}
		finally {
			container.stop();
		}
	}

	static double parallelConsumer(String servers, String topic, int partitions, int records) throws Exception {
		Meter meter = new Meter(records);
		KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig(servers, "pc-" + topic));
		ParallelConsumerOptions<String, String> options = ParallelConsumerOptions.<String, String>builder()
			.ordering(ProcessingOrder.KEY)
			.maxConcurrency(Math.min(256, WORKERS * partitions))
			.commitMode(CommitMode.PERIODIC_CONSUMER_ASYNCHRONOUS)
			.consumer(consumer)
			.build();
		ParallelStreamProcessor<String, String> processor = ParallelStreamProcessor.createEosStreamProcessor(options);
		processor.subscribe(List.of(topic));
		processor.poll((context) -> {
			Benchmarks.work(workMillis);
			meter.hit();
		});
		try {
			return meter.await(Duration.ofMinutes(10));
		}
		finally {
			processor.close();
		}
	}

	static double dispatcher(String servers, String topic, int partitions, int records) throws Exception {
		meter = new Meter(records);
		List<String> args = new ArrayList<>(List.of("--spring.kafka.bootstrap-servers=" + servers,
				"--bench.topic=" + topic, "--bench.group=dispatch-" + topic, "--spring.main.banner-mode=off",
				"--bench.concurrency=" + System.getProperty("bench.dispatcher.concurrency", String.valueOf(partitions)),
				"--reliable.kafka.consumer.idempotency.store=none", "--spring.kafka.listener.poll-timeout=500ms"));
		for (String extra : System.getProperty("bench.dispatcher.args", "").split(" ")) {
			if (!extra.isBlank()) {
				args.add(extra);
			}
		}
		try (ConfigurableApplicationContext context = new SpringApplicationBuilder(DispatchApp.class)
			.web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run(args.toArray(String[]::new))) {
			if (Boolean.getBoolean("bench.debug")) {
				var factory = context.getBean(ReliableListener.CONTAINER_FACTORY,
						io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory.class);
				Thread debug = new Thread(() -> {
					while (true) {
						factory.dispatchers().forEach((d) -> System.out.printf("debug in-flight=%d bytes=%d lane-max=%d "
								+ "processed=%d%n", d.inFlight(), d.inFlightBytes(), d.maxLaneDepth(), meter.count()));
						Benchmarks.work(500);
					}
				});
				debug.setDaemon(true);
				debug.start();
			}
			return meter.await(Duration.ofMinutes(10));
		}
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ KafkaAutoConfiguration.class, ReliableKafkaProducerAutoConfiguration.class,
			ReliableKafkaIdempotencyAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class })
	static class DispatchApp {

		@Bean
		KeyedListener keyedListener() {
			return new KeyedListener();
		}

	}

	static final class KeyedListener {

		@ReliableListener(id = "bench-dispatch", topics = "${bench.topic}", groupId = "${bench.group}",
				ordering = Ordering.KEY, workers = WORKERS, concurrency = "${bench.concurrency}")
		void on(ConsumerRecord<String, byte[]> record) {
			Benchmarks.work(workMillis);
			meter.hit();
		}

	}

}
