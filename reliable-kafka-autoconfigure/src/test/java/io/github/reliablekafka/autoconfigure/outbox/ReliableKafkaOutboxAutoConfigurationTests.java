package io.github.reliablekafka.autoconfigure.outbox;

import java.time.Duration;

import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.outbox.OnFailed;
import io.github.reliablekafka.outbox.OutboxMetrics;
import io.github.reliablekafka.outbox.OutboxOperations;
import io.github.reliablekafka.outbox.PublishMode;
import io.github.reliablekafka.outbox.TransactionalOutbox;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import io.github.reliablekafka.support.SchemaInitialization;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.embedded.EmbeddedDatabaseBuilder;
import org.springframework.jdbc.datasource.embedded.EmbeddedDatabaseType;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

class ReliableKafkaOutboxAutoConfigurationTests {

	/** The outbox's template, package-private in the outbox package. */
	private static final String OUTBOX_TEMPLATE = "io.github.reliablekafka.outbox.OutboxReliableKafkaTemplate";

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, DataSourceAutoConfiguration.class,
				ReliableKafkaOutboxAutoConfiguration.class, ReliableKafkaProducerAutoConfiguration.class))
		.withPropertyValues("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(),
				"spring.datasource.generate-unique-name=true");

	@Test
	void theOutboxTemplateReplacesTheDirectOneWhenThereIsADataSource() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(TransactionalOutbox.class)
				.hasSingleBean(OutboxOperations.class)
				.getBean(ReliableKafkaTemplate.class)
				.extracting((template) -> template.getClass().getName())
				.isEqualTo(OUTBOX_TEMPLATE);
			assertThat(new JdbcTemplate(context.getBean(javax.sql.DataSource.class))
				.queryForObject("SELECT COUNT(*) FROM rk_outbox", Long.class)).as("created for an embedded database")
				.isZero();
		});
	}

	@Test
	void theDirectTemplateIsUsedWithoutADataSource() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class,
					ReliableKafkaOutboxAutoConfiguration.class, ReliableKafkaProducerAutoConfiguration.class))
			.withPropertyValues("spring.kafka.bootstrap-servers=127.0.0.1:1")
			.run((context) -> assertThat(context).doesNotHaveBean(TransactionalOutbox.class)
				.getBean(ReliableKafkaTemplate.class)
				.extracting((template) -> template.getClass().getName())
				.isNotEqualTo(OUTBOX_TEMPLATE));
	}

	@Test
	void theOutboxCanBeSwitchedOff() {
		this.contextRunner.withPropertyValues("reliable.kafka.outbox.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(TransactionalOutbox.class)
				.getBean(ReliableKafkaTemplate.class)
				.extracting((template) -> template.getClass().getName())
				.isNotEqualTo(OUTBOX_TEMPLATE));
	}

	@Test
	void backsOffWithoutSpringJdbc() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(JdbcTemplate.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(TransactionalOutbox.class));
	}

	@Test
	void theTableIsCreatedOnAnyDatabaseByDefault() {
		try (TestDatabase database = TestDatabase.postgres()) {
			this.contextRunner.withPropertyValues("spring.datasource.url=" + database.url())
				.run((context) -> assertThat(context).hasNotFailed());
			assertThat(new JdbcTemplate(database.dataSource()).queryForObject("SELECT COUNT(*) FROM rk_outbox",
					Long.class)).as("created on PostgreSQL without any schema setting").isZero();
		}
	}

	@Test
	void aMissingTableThatIsNotToBeCreatedStopsTheApplicationNamingTheFix() {
		try (TestDatabase database = TestDatabase.postgres()) {
			this.contextRunner
				.withPropertyValues("spring.datasource.url=" + database.url(),
						"reliable.kafka.outbox.initialize-schema=never")
				.run((context) -> {
					assertThat(context).hasFailed();
					ReliableKafkaConfigurationException refusal = refusal(context.getStartupFailure());
					assertThat(refusal.getDescription()).contains("outbox table 'rk_outbox' does not exist")
						.contains("reliable.kafka.outbox.initialize-schema=never");
					assertThat(refusal.getAction()).contains("reliable.kafka.outbox.initialize-schema=always")
						.contains("classpath:io/github/reliablekafka/outbox/schema-postgresql.sql")
						.contains("reliable.kafka.outbox.enabled=false");
				});
		}
	}

	@Test
	void anExistingTableIsUsedAsItIs() {
		try (TestDatabase database = TestDatabase.postgres()) {
			this.contextRunner.withPropertyValues("spring.datasource.url=" + database.url())
				.run((context) -> assertThat(context).hasNotFailed());
			new JdbcTemplate(database.dataSource()).execute("DROP INDEX rk_outbox_sent");
			this.contextRunner.withPropertyValues("spring.datasource.url=" + database.url())
				.run((context) -> assertThat(context).hasNotFailed());
			assertThat(new JdbcTemplate(database.dataSource()).queryForObject(
					"SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'rk_outbox_sent' AND schemaname = current_schema()",
					Long.class)).as("no DDL runs against a table that exists").isZero();
		}
	}

	@Test
	void anInvalidTableNameStopsTheApplicationNamingTheProperty() {
		this.contextRunner.withPropertyValues("reliable.kafka.outbox.table=rk_outbox; DROP TABLE x").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(refusal(context.getStartupFailure()).getDescription()).contains("reliable.kafka.outbox.table");
		});
	}

	private static ReliableKafkaConfigurationException refusal(Throwable failure) {
		Throwable cause = failure;
		while (cause != null && !(cause instanceof ReliableKafkaConfigurationException)) {
			cause = cause.getCause();
		}
		assertThat(cause).as("a ReliableKafkaConfigurationException in %s", failure).isNotNull();
		return (ReliableKafkaConfigurationException) cause;
	}

	@Test
	void propertiesAreBound() {
		this.contextRunner
			.withPropertyValues("reliable.kafka.outbox.table=app_events_outbox", "reliable.kafka.outbox.initialize-schema=embedded",
					"reliable.kafka.outbox.publish-mode=relay", "reliable.kafka.outbox.retry.max-attempts=3",
					"reliable.kafka.outbox.on-failed=block", "reliable.kafka.outbox.retention=2h",
					"reliable.kafka.outbox.retry.delay=5s", "reliable.kafka.outbox.retry.multiplier=3",
					"reliable.kafka.outbox.retry.max-delay=10m", "reliable.kafka.outbox.relay.poll-interval=250ms",
					"reliable.kafka.outbox.relay.batch-size=100", "reliable.kafka.outbox.relay.lease=1m")
			.run((context) -> {
				ReliableKafkaOutboxProperties properties = context.getBean(ReliableKafkaOutboxProperties.class);
				assertThat(properties.getTable()).isEqualTo("app_events_outbox");
				assertThat(properties.getInitializeSchema()).isEqualTo(SchemaInitialization.EMBEDDED);
				assertThat(properties.getPublishMode()).isEqualTo(PublishMode.RELAY);
				assertThat(properties.getRetry().getMaxAttempts()).isEqualTo(3);
				assertThat(properties.getOnFailed()).isEqualTo(OnFailed.BLOCK);
				assertThat(properties.getRetention()).isEqualTo(Duration.ofHours(2));
				assertThat(properties.getRetry().getDelay()).isEqualTo(Duration.ofSeconds(5));
				assertThat(properties.getRetry().getMultiplier()).isEqualTo(3.0);
				assertThat(properties.getRetry().getMaxDelay()).isEqualTo(Duration.ofMinutes(10));
				assertThat(properties.getRelay().getPollInterval()).isEqualTo(Duration.ofMillis(250));
				assertThat(properties.getRelay().getBatchSize()).isEqualTo(100);
				assertThat(properties.getRelay().getLease()).isEqualTo(Duration.ofMinutes(1));
			});
	}

	@Test
	void defaultsMatchTheDocumentedOnes() {
		ReliableKafkaOutboxProperties properties = new ReliableKafkaOutboxProperties();
		assertThat(properties.isEnabled()).isTrue();
		assertThat(properties.getTable()).isEqualTo("rk_outbox");
		assertThat(properties.getInitializeSchema()).isEqualTo(SchemaInitialization.ALWAYS);
		assertThat(properties.getPublishMode()).isEqualTo(PublishMode.IMMEDIATE);
		assertThat(properties.getRetry().getMaxAttempts()).isEqualTo(20);
		assertThat(properties.getOnFailed()).isEqualTo(OnFailed.PARK);
		assertThat(properties.getRetention()).isEqualTo(Duration.ofDays(1));
		assertThat(properties.getRelay().getPollInterval()).isEqualTo(Duration.ofSeconds(1));
		assertThat(properties.getRelay().getBatchSize()).isEqualTo(500);
		assertThat(properties.getRelay().getLease()).isEqualTo(Duration.ofSeconds(30));
	}

	@Test
	void metersAreRegisteredWithAMeterRegistry() {
		this.contextRunner.withBean(MeterRegistry.class, SimpleMeterRegistry::new).run((context) -> {
			assertThat(context).hasSingleBean(OutboxMetrics.class);
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			context.getBean(OutboxMetrics.class).bindTo(registry);
			assertThat(registry.get("reliable.kafka.outbox.pending").gauge().value()).isZero();
			assertThat(registry.get("reliable.kafka.outbox.oldest.age").gauge().value()).isZero();
			assertThat(registry.get("reliable.kafka.outbox.published").functionCounter()).isNotNull();
			assertThat(registry.get("reliable.kafka.outbox.failed").functionCounter()).isNotNull();
		});
	}

	@Test
	void aSendInATransactionThatLeavesTheOutboxDataSourceOutIsRefusedAndWritesNothing() {
		this.contextRunner.run((context) -> {
			javax.sql.DataSource outbox = context.getBean(javax.sql.DataSource.class);
			ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
			javax.sql.DataSource other = new EmbeddedDatabaseBuilder().setType(EmbeddedDatabaseType.H2)
				.generateUniqueName(true)
				.build();
			TransactionTemplate elsewhere = new TransactionTemplate(new DataSourceTransactionManager(other));
			assertThatIllegalStateException()
				.isThrownBy(() -> elsewhere.executeWithoutResult((status) -> template.send("rk-no-such-topic", "k", "v")))
				.withMessageContaining("does not include the outbox's DataSource");
			TransactionTemplate including = new TransactionTemplate(new DataSourceTransactionManager(outbox));
			including.executeWithoutResult((status) -> {
				template.send("rk-no-such-topic", "k", "v");
				status.setRollbackOnly();
			});
			assertThat(new JdbcTemplate(outbox).queryForObject("SELECT COUNT(*) FROM rk_outbox", Long.class))
				.as("nothing written by the refused send, nothing left by the rolled back one")
				.isZero();
		});
	}

}
