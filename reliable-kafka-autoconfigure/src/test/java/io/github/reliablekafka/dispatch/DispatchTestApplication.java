package io.github.reliablekafka.dispatch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.ReliableListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * An application with one key-ordered reliable listener on {@code test.topic} ({@code test.workers} lanes). Record
 * values are {@code <seq>} (the record's place in its key's order) optionally followed by {@code :block-<ms>} or
 * {@code :fail}. The listener waits a random {@code test.work-min-ms} (0) to {@code test.work-max-ms} ms (or the
 * block), remembers the delivery, and, with {@code test.db.url}, inserts it into {@code dispatch_effects}, whose
 * identity column gives the order of processing across processes. Tests start it in the JVM; crash tests in a child JVM ({@link #main}).
 */
@Configuration(proxyBeanMethods = false)
@ImportAutoConfiguration({ KafkaAutoConfiguration.class, ReliableKafkaProducerAutoConfiguration.class,
		ReliableKafkaIdempotencyAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class })
public class DispatchTestApplication {

	@Bean
	MeterRegistry meterRegistry() {
		return new SimpleMeterRegistry();
	}

	@Bean
	Deliveries deliveries(Environment environment) {
		String url = environment.getProperty("test.db.url");
		JdbcTemplate jdbc = null;
		if (url != null) {
			HikariConfig config = new HikariConfig();
			config.setJdbcUrl(url);
			config.setMaximumPoolSize(20);
			jdbc = new JdbcTemplate(new HikariDataSource(config));
		}
		return new Deliveries(environment.getProperty("test.name", "main"), jdbc,
				environment.getProperty("test.work-min-ms", Integer.class, 0),
				environment.getProperty("test.work-max-ms", Integer.class, 0));
	}

	@Bean
	KeyListener keyListener(Deliveries deliveries) {
		return new KeyListener(deliveries);
	}

	/** What the listener saw, in this JVM. */
	static final class Deliveries {

		final String name;

		final @Nullable JdbcTemplate jdbc;

		final int workMinMillis;

		final int workMaxMillis;

		/** Per key, the sequence numbers in the order the listener finished them. */
		final Map<String, List<Integer>> byKey = new ConcurrentHashMap<>();

		final Set<Long> offsets = ConcurrentHashMap.newKeySet();

		final AtomicInteger total = new AtomicInteger();

		final AtomicInteger concurrent = new AtomicInteger();

		final AtomicInteger maxConcurrent = new AtomicInteger();

		final Map<String, Long> finishedNanos = new ConcurrentHashMap<>();

		final Set<String> threads = ConcurrentHashMap.newKeySet();

		final Set<String> mdcSeen = ConcurrentHashMap.newKeySet();

		final AtomicInteger mdcMissing = new AtomicInteger();

		final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();

		Deliveries(String name, @Nullable JdbcTemplate jdbc, int workMinMillis, int workMaxMillis) {
			this.name = name;
			this.jdbc = jdbc;
			this.workMinMillis = workMinMillis;
			this.workMaxMillis = Math.max(workMinMillis, workMaxMillis);
		}

		void reset() {
			this.byKey.clear();
			this.offsets.clear();
			this.total.set(0);
			this.maxConcurrent.set(0);
			this.finishedNanos.clear();
			this.threads.clear();
			this.mdcSeen.clear();
			this.failures.clear();
		}

	}

	static final class KeyListener {

		private final Deliveries deliveries;

		KeyListener(Deliveries deliveries) {
			this.deliveries = deliveries;
		}

		@ReliableListener(id = "${test.name:main}-keyed", topics = "${test.topic}", groupId = "${test.group}",
				ordering = Ordering.KEY, workers = 16, concurrency = "${test.concurrency:1}",
				autoStartup = "${test.listen:true}")
		void on(String value, ConsumerRecord<String, byte[]> record) throws InterruptedException {
			Deliveries d = this.deliveries;
			int now = d.concurrent.incrementAndGet();
			d.maxConcurrent.accumulateAndGet(now, Math::max);
			try {
				String[] parts = value.split(":");
				int seq = Integer.parseInt(parts[0]);
				String mdc = MDC.get("test.mdc");
				if (mdc != null) {
					d.mdcSeen.add(mdc);
				}
				else {
					d.mdcMissing.incrementAndGet();
				}
				if (parts.length > 1 && parts[1].equals("fail")) {
					d.failures.computeIfAbsent(record.key() + ":" + seq, (k) -> new AtomicInteger()).incrementAndGet();
					throw new IllegalStateException("failing on purpose: " + record.key() + ":" + seq);
				}
				if (parts.length > 1 && parts[1].startsWith("block-")) {
					Thread.sleep(Long.parseLong(parts[1].substring("block-".length())));
				}
				else if (d.workMaxMillis > 0) {
					Thread.sleep(ThreadLocalRandom.current().nextInt(d.workMinMillis, d.workMaxMillis + 1));
				}
				if (d.jdbc != null) {
					d.jdbc.update("INSERT INTO dispatch_effects (record_key, seq, record_partition, record_offset, "
							+ "consumer) VALUES (?, ?, ?, ?, ?)", record.key(), seq, record.partition(), record.offset(),
							d.name);
				}
				d.byKey.computeIfAbsent(record.key(), (k) -> java.util.Collections.synchronizedList(new ArrayList<>()))
					.add(seq);
				d.offsets.add(((long) record.partition() << 40) | record.offset());
				d.threads.add(Thread.currentThread().getName());
				long finished = System.nanoTime();
				d.finishedNanos.put(record.key() + ":" + seq, finished);
				d.total.incrementAndGet();
			}
			finally {
				d.concurrent.decrementAndGet();
			}
		}

	}

	static ConfigurableApplicationContext start(List<String> properties) {
		List<String> all = new ArrayList<>(List.of("spring.main.banner-mode=off",
				"reliable.kafka.consumer.retry.delay=50ms", "reliable.kafka.consumer.retry.max-delay=200ms",
				"reliable.kafka.consumer.idempotency.store=none", "spring.kafka.listener.poll-timeout=500ms"));
		if (properties.stream().noneMatch((property) -> property.contains("group.protocol=consumer"))) {
			// classic protocol: a killed consumer's partitions move on after 6 s, not 45 s (with KIP-848 these are
			// broker settings, refused by the client)
			all.addAll(List.of("spring.kafka.consumer.properties.session.timeout.ms=6000",
					"spring.kafka.consumer.properties.heartbeat.interval.ms=2000"));
		}
		all.addAll(properties);
		Map<String, String> byName = new LinkedHashMap<>();
		all.forEach((property) -> byName.put(property.substring(0, property.indexOf('=')), property));
		return new SpringApplicationBuilder(DispatchTestApplication.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run(byName.values().stream().map((property) -> "--" + property).toArray(String[]::new));
	}

	public static void main(String[] args) {
		start(List.of(args));
		System.out.println("STARTED");
	}

}
