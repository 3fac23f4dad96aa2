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
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.MessageListener;

/**
 * The key-ordered dispatcher against a plain spring-kafka listener (one thread per partition) and Confluent
 * Parallel Consumer in KEY order with the same concurrency, on the same topic contents: 1 and 12 partitions,
 * 10,000 keys, work of 0 ms and 2 ms (a sleep).
 *
 * <p>
 * System properties: {@code bench.partitions}, {@code bench.work}, {@code bench.records} (lists or numbers),
 * {@code bench.dispatcher-only=true} (no peers), {@code bench.listener=keyed|partition|annotated} (what the
 * "dispatcher" column runs: the key-ordered {@code @ReliableListener}, a {@code @ReliableListener} without dispatch,
 * or a plain {@code @KafkaListener} in the same application), {@code bench.dispatcher.args} (extra application
 * arguments).
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
			.append("Records/s; the same records (10,000 keys, ~100-byte values; 2,000,000 at 0 ms, 10,000 per ")
			.append("partition and at least 20,000 at 2 ms) consumed by each in turn, after one warm-up run of each ")
			.append("over 100,000 records; at 0 ms the plain listener and the dispatcher each run once more over the ")
			.append("measured topic, untimed, then alternate over three rounds, each going first in turn, and the table ")
			.append("shows each one's median. ")
			.append("Plain listener: spring-kafka, one thread per partition (`concurrency` = partitions). ")
			.append("Parallel Consumer 0.5.3.3: KEY order, `maxConcurrency` = 16 x partitions. Dispatcher: ")
			.append("`@ReliableListener(ordering = KEY, workers = 16)` with `concurrency` = partitions like the plain ")
			.append("listener, 16 workers (64 lanes) per partition, at most 256 threads. ")
			.append("Targets: dispatcher >= 1.2x Parallel Consumer; on 1 partition at 2 ms >= 0.9x of the ideal ")
			.append("16 / 2 ms = 8,000 records/s; >= 0.7x the plain listener at 0 ms.\n\n")
			.append("| Partitions | Work | Records | Plain listener | Parallel Consumer | Dispatcher | ")
			.append("Dispatcher / Parallel Consumer | Dispatcher / plain | Dispatcher / ideal |\n")
			.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
		boolean peers = !Boolean.getBoolean("bench.dispatcher-only");
		boolean warm = false;
		for (int partitions : ints(System.getProperty("bench.partitions", "1,12"))) {
			for (int work : ints(System.getProperty("bench.work", "0,2"))) {
				int records = Integer.getInteger("bench.records",
						(work == 0) ? 2_000_000 : Math.max(20_000, 10_000 * partitions));
				workMillis = work;
				if (work == 0 && !warm) {
					warmUp(servers, peers);
					warm = true;
				}
				String topic = Benchmarks.newTopic(servers, "bench-dispatch", partitions);
				Benchmarks.produce(servers, topic, records, KEYS);
				if (work == 0) {
					// each contestant runs once over this very topic, untimed: after a warm-up on 1 partition only, the
					// plain listener's first round here was its slowest in most runs, and the rates of both still rose
					// from round to round, so that the ratio depended on which round was the median
					if (peers) {
						plain(servers, topic, partitions, records, -1);
					}
					dispatcher(servers, topic, partitions, records, -1);
				}
				// at 0 ms a run lasts a few seconds and the machine's drift shows: the plain listener and the dispatcher
				// alternate over three rounds, each going first in turn, and each keeps its median (Parallel Consumer,
				// 6-40x slower here, runs once)
				int rounds = (work == 0) ? 3 : 1;
				double[] plains = new double[rounds];
				double[] dispatchers = new double[rounds];
				for (int round = 0; round < rounds; round++) {
					if (round % 2 == 1) {
						dispatchers[round] = dispatcher(servers, topic, partitions, records, round);
					}
					plains[round] = peers ? plain(servers, topic, partitions, records, round) : Double.NaN;
					if (round % 2 == 0) {
						dispatchers[round] = dispatcher(servers, topic, partitions, records, round);
					}
					System.out.printf("dispatch benchmark round %d: %d partition(s), %d ms: plain %s, dispatcher %s%n",
							round + 1, partitions, work, Benchmarks.rate(plains[round]),
							Benchmarks.rate(dispatchers[round]));
				}
				double plain = Benchmarks.median(plains);
				double dispatcher = Benchmarks.median(dispatchers);
				double parallel = peers ? parallelConsumer(servers, topic, partitions, records) : Double.NaN;
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

	/**
	 * Run each contestant once over 100,000 records before the first 0 ms measurement, so that none of them is
	 * measured while the JIT compiles its code path (at 0 ms a run lasts about a second).
	 */
	private static void warmUp(String servers, boolean peers) throws Exception {
		int records = 100_000;
		String topic = Benchmarks.newTopic(servers, "bench-dispatch-warm-up", 1);
		Benchmarks.produce(servers, topic, records, KEYS);
		if (peers) {
			plain(servers, topic, 1, records, 0);
			parallelConsumer(servers, topic, 1, records);
		}
		dispatcher(servers, topic, 1, records, 0);
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

	static double plain(String servers, String topic, int partitions, int records, int round) throws Exception {
		Meter meter = new Meter(records);
		ContainerProperties properties = new ContainerProperties(topic);
		properties.setMessageListener((MessageListener<String, String>) (record) -> {
			Benchmarks.work(workMillis);
			meter.hit();
		});
		ConcurrentMessageListenerContainer<String, String> container = new ConcurrentMessageListenerContainer<>(
				new DefaultKafkaConsumerFactory<>(consumerConfig(servers, "plain-" + round + "-" + topic)), properties);
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

	static double dispatcher(String servers, String topic, int partitions, int records, int round) throws Exception {
		return application(System.getProperty("bench.listener", "keyed"), servers, topic, partitions, records, round);
	}

	static double application(String listener, String servers, String topic, int partitions, int records, int round)
			throws Exception {
		meter = new Meter(records);
		List<String> args = new ArrayList<>(List.of("--spring.kafka.bootstrap-servers=" + servers,
				"--bench.listener=" + listener, "--spring.kafka.consumer.auto-offset-reset=earliest",
				"--bench.topic=" + topic, "--bench.group=" + listener + "-" + round + "-" + topic, "--spring.main.banner-mode=off",
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
								+ "processed=%d%n", d.monitor().inFlight(), d.monitor().inFlightBytes(),
								d.monitor().maxLaneDepth(), meter.count()));
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
		@ConditionalOnProperty(name = "bench.listener", havingValue = "keyed", matchIfMissing = true)
		KeyedListener keyedListener() {
			return new KeyedListener();
		}

		@Bean
		@ConditionalOnProperty(name = "bench.listener", havingValue = "partition")
		PartitionListener partitionListener() {
			return new PartitionListener();
		}

		@Bean
		@ConditionalOnProperty(name = "bench.listener", havingValue = "annotated")
		AnnotatedListener annotatedListener() {
			return new AnnotatedListener();
		}

	}

	/** A {@code @ReliableListener} without dispatch: one record at a time per partition. */
	static final class PartitionListener {

		@ReliableListener(id = "bench-partition", topics = "${bench.topic}", groupId = "${bench.group}",
				concurrency = "${bench.concurrency}")
		void on(ConsumerRecord<String, byte[]> record) {
			Benchmarks.work(workMillis);
			meter.hit();
		}

	}

	/** A plain {@code @KafkaListener} on Spring Boot's container factory. */
	static final class AnnotatedListener {

		@KafkaListener(id = "bench-annotated", topics = "${bench.topic}", groupId = "${bench.group}",
				concurrency = "${bench.concurrency}")
		void on(ConsumerRecord<String, String> record) {
			Benchmarks.work(workMillis);
			meter.hit();
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
