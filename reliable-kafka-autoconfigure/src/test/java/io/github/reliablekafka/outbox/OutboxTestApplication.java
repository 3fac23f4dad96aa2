package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.reliablekafka.autoconfigure.outbox.ReliableKafkaOutboxAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.producer.SendOutcomeListener;
import jakarta.persistence.EntityManagerFactory;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.orm.jpa.persistenceunit.PersistenceManagedTypes;
import org.springframework.orm.jpa.vendor.HibernateJpaVendorAdapter;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A minimal application with the outbox: Kafka, a DataSource on the test database ({@code test.db.url}) and a
 * transaction manager for it (a {@code DataSourceTransactionManager}, or with {@code test.tx=jpa} Hibernate and a
 * {@code JpaTransactionManager}). Tests start it in the JVM; crash tests start it in a child JVM.
 */
@Configuration(proxyBeanMethods = false)
@ImportAutoConfiguration({ KafkaAutoConfiguration.class, ReliableKafkaOutboxAutoConfiguration.class,
		ReliableKafkaProducerAutoConfiguration.class })
public class OutboxTestApplication {

	@Bean(destroyMethod = "close")
	HikariDataSource dataSource(Environment environment) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(environment.getRequiredProperty("test.db.url"));
		for (String option : new String[] { "autosave", "preferQueryMode" }) { // the PostgreSQL driver's options
			String value = environment.getProperty("test.db." + option);
			if (value != null) {
				config.addDataSourceProperty(option, value);
			}
		}
		config.setMaximumPoolSize(12);
		return new HikariDataSource(config);
	}

	@Bean
	@ConditionalOnProperty(name = "test.tx", havingValue = "jdbc", matchIfMissing = true)
	DataSourceTransactionManager transactionManager(DataSource dataSource) {
		return new DataSourceTransactionManager(dataSource);
	}

	/**
	 * With {@code test.tx=jpa}: Hibernate on the same DataSource, and a {@link JpaTransactionManager} instead.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnProperty(name = "test.tx", havingValue = "jpa")
	static class Jpa {

		@Bean
		LocalContainerEntityManagerFactoryBean entityManagerFactory(DataSource dataSource) {
			LocalContainerEntityManagerFactoryBean factory = new LocalContainerEntityManagerFactoryBean();
			factory.setDataSource(dataSource);
			factory.setJpaVendorAdapter(new HibernateJpaVendorAdapter());
			factory.setManagedTypes(PersistenceManagedTypes.of(JpaOrder.class.getName()));
			factory.setJpaPropertyMap(Map.of("hibernate.hbm2ddl.auto", "create"));
			return factory;
		}

		@Bean
		JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
			return new JpaTransactionManager(entityManagerFactory);
		}

	}

	@Bean
	TransactionTemplate transactionTemplate(PlatformTransactionManager transactionManager) {
		return new TransactionTemplate(transactionManager);
	}

	@Bean
	JdbcTemplate jdbcTemplate(DataSource dataSource) {
		return new JdbcTemplate(dataSource);
	}

	@Bean
	OrderBreaks orderBreaks() {
		return new OrderBreaks();
	}

	/** Counts the order breaks the relay reports (the {@code reliable.kafka.producer.order.breaks} meter's source). */
	static final class OrderBreaks implements SendOutcomeListener {

		private final AtomicInteger count = new AtomicInteger();

		@Override
		public void onOrderBreak(ProducerRecord<String, byte[]> record, RecordMetadata metadata) {
			this.count.incrementAndGet();
		}

		int count() {
			return this.count.get();
		}

	}

	/**
	 * Start the application.
	 * @param dbUrl the JDBC URL
	 * @param bootstrapServers Kafka
	 * @param properties more {@code key=value} properties
	 * @return the running context
	 */
	public static ConfigurableApplicationContext start(String dbUrl, String bootstrapServers, String... properties) {
		return start(List.of(), dbUrl, bootstrapServers, properties);
	}

	/**
	 * Start the application with more configuration (listeners, more auto-configurations).
	 * @param with the configuration classes to add
	 * @param dbUrl the JDBC URL
	 * @param bootstrapServers Kafka
	 * @param properties more {@code key=value} properties
	 * @return the running context
	 */
	public static ConfigurableApplicationContext start(List<Class<?>> with, String dbUrl, String bootstrapServers,
			String... properties) {
		List<String> all = new ArrayList<>(List.of("test.db.url=" + dbUrl,
				"spring.kafka.bootstrap-servers=" + bootstrapServers, "reliable.kafka.outbox.initialize-schema=always",
				"reliable.kafka.outbox.relay.poll-interval=200ms", "spring.main.banner-mode=off"));
		all.addAll(List.of(properties));
		Map<String, String> byName = new LinkedHashMap<>(); // a later value replaces an earlier one
		all.forEach((property) -> byName.put(property.substring(0, property.indexOf('=')), property));
		List<Class<?>> sources = new ArrayList<>(List.of(OutboxTestApplication.class));
		sources.addAll(with);
		return new SpringApplicationBuilder(sources.toArray(Class[]::new)).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run(byName.values().stream().map((property) -> "--" + property).toArray(String[]::new));
	}

}
