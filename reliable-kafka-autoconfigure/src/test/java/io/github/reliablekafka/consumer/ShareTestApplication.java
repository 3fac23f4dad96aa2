package io.github.reliablekafka.consumer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.reliablekafka.autoconfigure.ReliableKafkaAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.doctor.ReliableKafkaDoctorAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.TestApplications;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

/**
 * An application with one reliable share-group listener on {@code test.topic} in share group {@code test.group}, run
 * in the test JVM or, for crash tests, in a child JVM ({@link #main}, arguments are {@code key=value} properties).
 * With {@code test.db.url} each record writes its effect to {@code rk_effects} (in the idempotency guard's
 * transaction). A value {@code fail-always...} always fails; {@code kill} prints {@code KILLING <id>} and halts the
 * JVM (a SIGKILL from inside); {@code slow-<ms>} takes that long. With {@code test.print=true} each handled record
 * prints {@code DONE <id> <delivery count>}.
 */
@Configuration(proxyBeanMethods = false)
@ImportAutoConfiguration({ KafkaAutoConfiguration.class, DataRedisAutoConfiguration.class,
		ReliableKafkaAutoConfiguration.class, ReliableKafkaProducerAutoConfiguration.class,
		ReliableKafkaIdempotencyAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class,
		ReliableKafkaDoctorAutoConfiguration.class })
public class ShareTestApplication {

	/** Runs of the listener per message id, across every context of this JVM. */
	static final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

	/** Records handled (the method returned) per context name. */
	static final Map<String, AtomicInteger> handledBy = new ConcurrentHashMap<>();

	static void reset() {
		runs.clear();
		handledBy.clear();
	}

	@Bean(destroyMethod = "close")
	@ConditionalOnProperty("test.db.url")
	HikariDataSource dataSource(Environment environment) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(environment.getRequiredProperty("test.db.url"));
		config.setMaximumPoolSize(8);
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
	Jobs jobs(ObjectProvider<JdbcTemplate> jdbc, Environment environment) {
		return new Jobs(jdbc.getIfAvailable(), environment.getProperty("test.name", "main"),
				environment.getProperty("test.print", Boolean.class, false));
	}

	static final class Jobs {

		private final @Nullable JdbcTemplate jdbc;

		private final String name;

		private final boolean print;

		Jobs(@Nullable JdbcTemplate jdbc, String name, boolean print) {
			this.jdbc = jdbc;
			this.name = name;
			this.print = print;
		}

		@ReliableListener(id = "${test.name:main}-jobs", topics = "${test.topic}", groupId = "${test.group}",
				concurrency = "${test.concurrency:1}", group = GroupType.SHARE)
		void on(String value, ConsumerRecord<String, byte[]> record) throws InterruptedException {
			String id = RkHeaders.id(record.headers());
			runs.computeIfAbsent(id, (key) -> new AtomicInteger()).incrementAndGet();
			if (value.equals("kill")) {
				System.out.println("KILLING " + id + " " + ShareRecordHandler.deliveryOf(record));
				System.out.flush();
				Runtime.getRuntime().halt(1);
			}
			if (value.startsWith("fail-always")) {
				throw new IllegalStateException("job " + id + " always fails");
			}
			if (value.startsWith("slow-")) {
				Thread.sleep(Long.parseLong(value.substring("slow-".length())));
			}
			if (this.jdbc != null) {
				this.jdbc.update("INSERT INTO rk_effects (effect_key, effect_value, consumer_group, context) "
						+ "VALUES (?, ?, ?, ?)", id, value, "share", this.name);
			}
			handledBy.computeIfAbsent(this.name, (key) -> new AtomicInteger()).incrementAndGet();
			if (this.print) {
				System.out.println("DONE " + id + " " + ShareRecordHandler.deliveryOf(record));
			}
		}

	}

	/**
	 * Start the application.
	 * @param properties {@code key=value} properties; a later value replaces an earlier one
	 * @return the running context
	 */
	static ConfigurableApplicationContext start(List<String> properties) {
		List<String> all = new ArrayList<>(List.of("reliable.kafka.consumer.retry.delay=50ms",
				"reliable.kafka.consumer.retry.max-delay=200ms",
				"reliable.kafka.consumer.idempotency.initialize-schema=always", "spring.data.redis.timeout=2s",
				"spring.data.redis.connect-timeout=1s"));
		all.addAll(properties);
		return TestApplications.run(List.of(ShareTestApplication.class), all);
	}

	public static void main(String[] args) {
		start(List.of(args));
		System.out.println("STARTED");
	}

}
