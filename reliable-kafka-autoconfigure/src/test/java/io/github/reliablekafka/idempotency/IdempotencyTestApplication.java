package io.github.reliablekafka.idempotency;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.support.RkHeaders;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.listener.RecordInterceptor;

/**
 * An application whose reliable listener has a database effect per record ({@code rk_effects}), run inside the
 * idempotency guard. Tests start it in the JVM; crash tests start it in a child JVM ({@link #main}, arguments are
 * {@code key=value} properties).
 *
 * <p>
 * The listener on {@code test.topic}: a value {@code crash} prints {@code CRASH-POINT <id>} and waits to be killed
 * before any effect; {@code fail-once...} writes its effect and then fails on the first attempt; {@code slow-<ms>}
 * writes its effect and takes that long. After each record the interceptor prints {@code DONE <id>} (the work ran
 * and committed) or {@code SKIPPED <id>} (a duplicate) when {@code test.print=true}, and a record named in
 * {@code test.block-ids} whose work ran prints {@code BLOCKED <id>} and waits to be killed: after its database
 * commit, before its offset commit.
 */
@Configuration(proxyBeanMethods = false)
@ImportAutoConfiguration({ KafkaAutoConfiguration.class, DataRedisAutoConfiguration.class,
		ReliableKafkaProducerAutoConfiguration.class, ReliableKafkaIdempotencyAutoConfiguration.class,
		ReliableKafkaConsumerAutoConfiguration.class })
public class IdempotencyTestApplication {

	/** Work runs per effect key, across every context of this JVM. */
	static final Map<String, AtomicInteger> invocations = new ConcurrentHashMap<>();

	/** Each delivery reaching a listener: context name, effect key, time. */
	static final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

	static final Set<String> failedOnce = ConcurrentHashMap.newKeySet();

	private static final ThreadLocal<String> ran = new ThreadLocal<>();

	record Delivery(String context, String key, long nanos) {
	}

	static void reset() {
		invocations.clear();
		deliveries.clear();
		failedOnce.clear();
	}

	static String effectKey(ConsumerRecord<String, byte[]> record) {
		String id = RkHeaders.id(record.headers());
		return (id != null) ? id : new String(record.value());
	}

	@Bean(destroyMethod = "close")
	@ConditionalOnProperty("test.db.url")
	HikariDataSource dataSource(Environment environment) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(environment.getRequiredProperty("test.db.url"));
		config.setMaximumPoolSize(12);
		return new HikariDataSource(config);
	}

	@Bean
	@ConditionalOnProperty("test.db.url")
	DataSourceTransactionManager transactionManager(DataSource dataSource) {
		return new DataSourceTransactionManager(dataSource);
	}

	@Bean
	@ConditionalOnProperty("test.db.url")
	JdbcTemplate jdbcTemplate(DataSource dataSource) {
		return new JdbcTemplate(dataSource);
	}

	@Bean
	MeterRegistry meterRegistry() {
		return new SimpleMeterRegistry();
	}

	@Bean
	Effects effects(JdbcTemplate jdbc, Environment environment) {
		return new Effects(jdbc, environment.getProperty("test.group", "none"),
				environment.getProperty("test.name", "main"));
	}

	@Bean
	@ConditionalOnProperty(name = "test.ordering", havingValue = "PARTITION", matchIfMissing = true)
	EffectListener effectListener(Effects effects) {
		return new EffectListener(effects);
	}

	@Bean
	@ConditionalOnProperty(name = "test.ordering", havingValue = "KEY")
	KeyEffectListener keyEffectListener(Effects effects) {
		return new KeyEffectListener(effects);
	}

	@Bean
	@ConditionalOnProperty(name = "test.interceptor", havingValue = "true", matchIfMissing = true)
	RecordInterceptor<String, byte[]> outcomePrinter(Environment environment) {
		boolean print = environment.getProperty("test.print", Boolean.class, false);
		Set<String> blockIds = Set.of(environment.getProperty("test.block-ids", "").split(","));
		String name = environment.getProperty("test.name", "main");
		return new RecordInterceptor<>() {

			@Override
			public ConsumerRecord<String, byte[]> intercept(ConsumerRecord<String, byte[]> record,
					Consumer<String, byte[]> consumer) {
				deliveries.add(new Delivery(name, effectKey(record), System.nanoTime()));
				ran.remove();
				return record;
			}

			@Override
			public void success(ConsumerRecord<String, byte[]> record, Consumer<String, byte[]> consumer) {
				String key = effectKey(record);
				boolean workRan = key.equals(ran.get());
				ran.remove();
				if (print) {
					System.out.println((workRan ? "DONE " : "SKIPPED ") + key);
				}
				if (workRan && blockIds.contains(key)) {
					System.out.println("BLOCKED " + key);
					sleepForever();
				}
			}

		};
	}

	static void sleepForever() {
		try {
			Thread.sleep(Long.MAX_VALUE);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** Writes effects, in the caller's transaction when there is one. */
	static final class Effects {

		private final JdbcTemplate jdbc;

		private final String group;

		private final String context;

		Effects(JdbcTemplate jdbc, String group, String context) {
			this.jdbc = jdbc;
			this.group = group;
			this.context = context;
		}

		void write(String key, String value) {
			invocations.computeIfAbsent(key, (k) -> new AtomicInteger()).incrementAndGet();
			this.jdbc.update("INSERT INTO rk_effects (effect_key, effect_value, consumer_group, context) "
					+ "VALUES (?, ?, ?, ?)", key, value, this.group, this.context);
			ran.set(key);
		}

	}

	static final class EffectListener {

		private final Effects effects;

		EffectListener(Effects effects) {
			this.effects = effects;
		}

		@ReliableListener(id = "${test.name:main}-effects", topics = "${test.topic}", groupId = "${test.group}",
				concurrency = "${test.concurrency:1}", autoStartup = "${test.listen:true}")
		void on(String value, ConsumerRecord<String, byte[]> record) throws InterruptedException {
			String key = effectKey(record);
			if (value.equals("crash")) {
				System.out.println("CRASH-POINT " + key);
				sleepForever();
			}
			this.effects.write(key, value);
			if (value.startsWith("fail-once") && failedOnce.add(key)) {
				throw new IllegalStateException("failing once after the effect of " + key);
			}
			if (value.startsWith("slow-")) {
				System.out.println("SLOW-STARTED " + key);
				Thread.sleep(Long.parseLong(value.substring("slow-".length())));
			}
		}

	}

	/** The effect listener on key-ordered lanes ({@code test.ordering=KEY}): 4 workers per partition. */
	static final class KeyEffectListener {

		private final Effects effects;

		KeyEffectListener(Effects effects) {
			this.effects = effects;
		}

		@ReliableListener(id = "${test.name:main}-key-effects", topics = "${test.topic}", groupId = "${test.group}",
				concurrency = "${test.concurrency:1}", ordering = Ordering.KEY, workers = 4)
		void on(String value, ConsumerRecord<String, byte[]> record) {
			this.effects.write(effectKey(record), value);
		}

	}

	/**
	 * Start the application.
	 * @param sources more configuration classes
	 * @param properties {@code key=value} properties; a later value replaces an earlier one
	 * @return the running context
	 */
	static ConfigurableApplicationContext start(List<Class<?>> sources, List<String> properties) {
		List<String> all = new ArrayList<>(List.of("spring.main.banner-mode=off",
				"reliable.kafka.consumer.retry.delay=50ms", "reliable.kafka.consumer.retry.max-delay=200ms",
				"reliable.kafka.consumer.idempotency.initialize-schema=always", "spring.data.redis.timeout=2s",
				"spring.data.redis.connect-timeout=1s", "spring.kafka.consumer.max-poll-records=200"));
		all.addAll(properties);
		Map<String, String> byName = new LinkedHashMap<>();
		all.forEach((property) -> byName.put(property.substring(0, property.indexOf('=')), property));
		List<Class<?>> classes = new ArrayList<>(List.of(IdempotencyTestApplication.class));
		classes.addAll(sources);
		return new SpringApplicationBuilder(classes.toArray(Class[]::new)).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run(byName.values().stream().map((property) -> "--" + property).toArray(String[]::new));
	}

	public static void main(String[] args) {
		start(List.of(), List.of(args));
		System.out.println("STARTED");
	}

}
