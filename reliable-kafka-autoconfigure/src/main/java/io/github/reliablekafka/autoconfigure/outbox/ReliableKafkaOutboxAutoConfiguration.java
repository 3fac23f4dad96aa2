package io.github.reliablekafka.autoconfigure.outbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerProperties;
import io.github.reliablekafka.internal.BytesProducerFactory;
import io.github.reliablekafka.internal.LibraryTable;
import io.github.reliablekafka.internal.TableSchemaInitializer;
import io.github.reliablekafka.internal.TemplateObservation;
import io.github.reliablekafka.outbox.OutboxMetrics;
import io.github.reliablekafka.outbox.OutboxOperations;
import io.github.reliablekafka.outbox.OutboxRelaySettings;
import io.github.reliablekafka.outbox.TransactionalOutbox;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.producer.ReliableRecords;
import io.github.reliablekafka.producer.SendOutcomeListener;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RecordTracing;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.apache.kafka.clients.producer.ProducerConfig;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jdbc.init.DataSourceScriptDatabaseInitializer;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.support.ProducerListener;

/**
 * Auto-configuration of the transactional outbox: when the application has a single {@link DataSource}, every
 * {@link ReliableKafkaTemplate} send is recorded in the outbox table and the {@link TransactionalOutbox}'s relay publishes it.
 */
@AutoConfiguration(after = KafkaAutoConfiguration.class, before = ReliableKafkaProducerAutoConfiguration.class,
		afterName = { "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnClass({ JdbcTemplate.class, KafkaTemplate.class, DataSourceScriptDatabaseInitializer.class })
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnBean(ProducerFactory.class)
@ConditionalOnBooleanProperty(name = "reliable.kafka.outbox.enabled", matchIfMissing = true)
@EnableConfigurationProperties({ ReliableKafkaOutboxProperties.class, ReliableKafkaProducerProperties.class })
public final class ReliableKafkaOutboxAutoConfiguration {

	/** The relay never lets one unavailable topic hold its thread longer than this. */
	private static final int RELAY_MAX_BLOCK_MS = 10_000;

	@Bean
	@ConditionalOnBooleanProperty(name = "reliable.kafka.outbox.write-with-commit", matchIfMissing = true)
	static CommitWriteTransactionManagerPostProcessor reliableKafkaOutboxCommitWritePostProcessor() {
		return new CommitWriteTransactionManagerPostProcessor();
	}

	@Bean
	@ConditionalOnMissingBean
	@DependsOnDatabaseInitialization
	OutboxOperations reliableKafkaOutboxOperations(DataSource dataSource, ReliableKafkaOutboxProperties properties) {
		return TransactionalOutbox.operations(dataSource, table(properties));
	}

	@Bean
	@ConditionalOnMissingBean(name = "reliableKafkaOutboxSchemaInitializer")
	TableSchemaInitializer reliableKafkaOutboxSchemaInitializer(DataSource dataSource,
			ReliableKafkaOutboxProperties properties) {
		return new TableSchemaInitializer(dataSource, TransactionalOutbox.libraryTable(table(properties)),
				properties.getInitializeSchema());
	}

	private static String table(ReliableKafkaOutboxProperties properties) {
		return LibraryTable.checkName(properties.getTable(), "reliable.kafka.outbox.table");
	}

	@Bean
	@DependsOnDatabaseInitialization
	TransactionalOutbox reliableKafkaOutbox(DataSource dataSource, ProducerFactory<?, ?> producerFactory,
			ReliableKafkaOutboxProperties properties, ReliableKafkaProducerProperties producerProperties,
			ObjectProvider<SendOutcomeListener> listeners, KafkaProperties kafkaProperties,
			ObjectProvider<ObservationRegistry> observationRegistry, ObjectProvider<RecordTracing> tracing) {
		Object userMaxBlock = producerFactory.getConfigurationProperties().get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
		long maxBlock = Math.min((userMaxBlock != null) ? Long.parseLong(userMaxBlock.toString().trim()) : 60_000,
				RELAY_MAX_BLOCK_MS);
		DefaultKafkaProducerFactory<String, byte[]> factory = BytesProducerFactory.from(producerFactory, "-outbox",
				Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlock));
		KafkaTemplate<String, byte[]> kafkaTemplate = new KafkaTemplate<>(factory);
		kafkaTemplate.setProducerListener(new ProducerListener<>() {
			// outcomes are logged by the relay
		});
		new TemplateObservation(kafkaProperties.getTemplate().isObservationEnabled(), observationRegistry.getIfUnique())
			.applyTo(kafkaTemplate);
		OutboxRelaySettings settings = new OutboxRelaySettings(properties.getPublishMode(),
				properties.getRelay().getPollInterval(), properties.getRelay().getBatchSize(),
				properties.getRelay().getLease(), properties.getRetry().toBackoff(),
				properties.getOnFailed(), properties.getRetention(), producerProperties.getSendTimeout());
		List<SendOutcomeListener> all = new ArrayList<>();
		all.add(SendOutcomeListener.logging());
		listeners.orderedStream().forEach(all::add);
		return new TransactionalOutbox(dataSource, table(properties), kafkaTemplate, settings,
				SendOutcomeListener.composite(all), factory::destroy, tracing.getIfAvailable(() -> RecordTracing.NONE));
	}

	@Bean
	@ConditionalOnMissingBean
	ReliableKafkaTemplate reliableKafkaTemplate(TransactionalOutbox outbox, DataSource dataSource,
			PayloadCodec codec, ProducerFactory<?, ?> producerFactory,
			ReliableKafkaProducerProperties producerProperties) {
		return outbox.template(new ReliableRecords(codec, BytesProducerFactory.maxRequestSize(producerFactory), true),
				new JdbcTemplate(dataSource), producerProperties.getSendTimeout());
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	@ConditionalOnBean(MeterRegistry.class)
	static class OutboxMetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		OutboxMetrics reliableKafkaOutboxMetrics(OutboxOperations operations, TransactionalOutbox outbox) {
			return new OutboxMetrics(operations, outbox);
		}

	}

}
