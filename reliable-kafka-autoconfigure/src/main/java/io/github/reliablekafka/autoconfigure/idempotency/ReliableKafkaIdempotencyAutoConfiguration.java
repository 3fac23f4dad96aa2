package io.github.reliablekafka.autoconfigure.idempotency;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import javax.sql.DataSource;

import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.consumer.ReliableListeners;
import io.github.reliablekafka.idempotency.ConsumedLedger;
import io.github.reliablekafka.idempotency.GuardListener;
import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyGuards;
import io.github.reliablekafka.idempotency.IdempotencyStore;
import io.github.reliablekafka.idempotency.MicrometerGuardListener;
import io.github.reliablekafka.idempotency.RedisGuards;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.internal.LibraryTable;
import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.internal.TableSchemaInitializer;
import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.jdbc.init.DataSourceScriptDatabaseInitializer;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Auto-configuration of the idempotency guard that reliable listeners run inside: Redis, a database ledger, or
 * both (two-tier), per {@code reliable.kafka.consumer.idempotency.store}.
 */
@AutoConfiguration(after = KafkaAutoConfiguration.class, before = ReliableKafkaConsumerAutoConfiguration.class,
		afterName = { "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
				"org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
				"org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
				"org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnClass(EnableKafka.class)
@EnableConfigurationProperties(ReliableKafkaIdempotencyProperties.class)
public final class ReliableKafkaIdempotencyAutoConfiguration {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaIdempotencyAutoConfiguration.class);

	private static final String STORE_PROPERTY = "reliable.kafka.consumer.idempotency.store";

	@Bean
	@ConditionalOnMissingBean
	ReliableIdempotency reliableKafkaIdempotency(ReliableKafkaIdempotencyProperties properties,
			ObjectProvider<RedisGuards> redisGuards, ObjectProvider<ConsumedLedger> ledgers,
			ObjectProvider<DataSource> dataSources, ObjectProvider<PlatformTransactionManager> transactionManagers,
			ObjectProvider<GuardListener> guardListeners) {
		validate(properties);
		List<GuardListener> all = guardListeners.orderedStream().toList();
		GuardListener listener = (store, result) -> all.forEach((each) -> each.checked(store, result));
		RedisGuards redis = redisGuards.getIfAvailable();
		ConsumedLedger ledger = ledgers.getIfAvailable();
		IdempotencyStore store = properties.getStore();
		String unsupported = (redis != null) ? redis.unsupported() : null;
		if (unsupported != null) {
			if (store == IdempotencyStore.REDIS || store == IdempotencyStore.TWO_TIER) {
				throw new ReliableKafkaConfigurationException(STORE_PROPERTY + "=" + name(store) + " cannot use the "
						+ "application's Redis: " + unsupported + ".", "Choose " + STORE_PROPERTY + "=jdbc (the "
								+ "database ledger), or give the guard a standalone or Sentinel Redis.");
			}
			if (store == IdempotencyStore.AUTO) {
				logger.warn("The idempotency guards do not use the application's Redis ({}): {}=auto chooses {}",
						unsupported, STORE_PROPERTY, (ledger != null) ? "jdbc, the database ledger alone" : "none");
			}
			redis = null;
		}
		if (store == IdempotencyStore.AUTO) {
			store = (redis != null && ledger != null) ? IdempotencyStore.TWO_TIER
					: (redis != null) ? IdempotencyStore.REDIS
							: (ledger != null) ? IdempotencyStore.JDBC : IdempotencyStore.NONE;
		}
		if ((store == IdempotencyStore.REDIS || store == IdempotencyStore.TWO_TIER) && redis == null) {
			throw new IllegalStateException(STORE_PROPERTY + "=" + name(properties.getStore())
					+ " needs Redis: add spring-boot-starter-data-redis so that the application has a "
					+ "RedisConnectionFactory bean, or choose another store");
		}
		if ((store == IdempotencyStore.JDBC || store == IdempotencyStore.TWO_TIER) && ledger == null) {
			throw new IllegalStateException(STORE_PROPERTY + "=" + name(properties.getStore())
					+ " needs a database: the application must have a single DataSource bean (spring-boot-starter-jdbc "
					+ "and a JDBC driver), or choose another store");
		}
		IdempotencyGuard guard = switch (store) {
			case REDIS -> redis.redis(listener);
			case JDBC -> IdempotencyGuards.jdbc(ledger, LedgerTransactions.of(dataSources, transactionManagers),
					properties.getMaxClaims(), listener);
			case TWO_TIER -> redis.twoTier(ledger, LedgerTransactions.of(dataSources, transactionManagers), listener);
			default -> null;
		};
		if (guard != null) {
			logger.info("Reliable listeners run inside the {} idempotency guard (keys from {}, ttl {}, scoped per "
					+ "consumer group)", guard.store(), name(properties.getKey()),
					properties.getTtl());
		}
		else {
			logger.info("Reliable listeners run without an idempotency guard ({}={}): a redelivered record runs "
					+ "again", STORE_PROPERTY, name(properties.getStore()));
		}
		return new ReliableIdempotency(guard, properties.getKey());
	}

	/**
	 * Stops the guard's background work when the context stops, after the listener containers and before the Redis
	 * connection factory: the two-tier guard's {@code DONE} writes still waiting reach Redis.
	 */
	@Bean
	SmartLifecycle reliableKafkaIdempotencyStop(ReliableIdempotency idempotency) {
		return IdempotencyGuards.stopWithTheContext(idempotency);
	}

	private static String name(Enum<?> value) {
		return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
	}

	private static void validate(ReliableKafkaIdempotencyProperties properties) {
		requirePositive(properties.getTtl(), "ttl");
		requirePositive(properties.getLease(), "lease");
		if (properties.getMaxClaims() < 1) {
			throw new IllegalStateException("reliable.kafka.consumer.idempotency.max-claims must be at least 1, was "
					+ properties.getMaxClaims());
		}
		if (properties.getRedisKeyPrefix() == null || properties.getRedisKeyPrefix().isBlank()) {
			throw new IllegalStateException("reliable.kafka.consumer.idempotency.redis-key-prefix must not be empty");
		}
	}

	private static void requirePositive(@Nullable Duration duration, String name) {
		if (duration == null || duration.isNegative() || duration.isZero()) {
			throw new IllegalStateException("reliable.kafka.consumer.idempotency." + name + " must be positive, was "
					+ duration);
		}
	}

	@Bean
	ApplicationListener<ApplicationReadyEvent> reliableKafkaIdempotencyRetentionCheck(BeanFactory beanFactory,
			ObjectProvider<SharedAdmin> sharedAdmin, ObjectProvider<ReliableListeners> listeners,
			ReliableKafkaIdempotencyProperties properties) {
		return (event) -> {
			ReliableIdempotency idempotency = beanFactory.getBeanProvider(ReliableIdempotency.class).getIfAvailable();
			SharedAdmin admin = sharedAdmin.getIfAvailable();
			ReliableListeners reliable = listeners.getIfAvailable();
			if (idempotency == null || idempotency.guard() == null || admin == null || reliable == null) {
				return;
			}
			Set<String> topics = reliable.topics();
			if (topics.isEmpty()) {
				return;
			}
			Thread check = new Thread(() -> {
				try {
					IdempotencyGuards.retentionWarnings(admin.get(), topics, properties.getTtl()).forEach(logger::warn);
				}
				catch (Exception ex) {
					logger.debug("Could not compare the retention of topics {} with the idempotency TTL: {}", topics,
							ex.toString());
				}
			}, "rk-retention-check");
			check.setDaemon(true);
			check.start();
		};
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ JdbcTemplate.class, DataSourceScriptDatabaseInitializer.class })
	@ConditionalOnSingleCandidate(DataSource.class)
	@Conditional(LedgerStoreCondition.class)
	static class LedgerConfiguration {

		@Bean
		@ConditionalOnMissingBean
		@DependsOnDatabaseInitialization
		ConsumedLedger reliableKafkaConsumedLedger(DataSource dataSource, ReliableKafkaIdempotencyProperties properties) {
			return new ConsumedLedger(dataSource, table(properties));
		}

		@Bean
		@ConditionalOnMissingBean(name = "reliableKafkaIdempotencySchemaInitializer")
		TableSchemaInitializer reliableKafkaIdempotencySchemaInitializer(DataSource dataSource,
				ReliableKafkaIdempotencyProperties properties) {
			return new TableSchemaInitializer(dataSource, ConsumedLedger.libraryTable(table(properties)),
					properties.getInitializeSchema());
		}

		@Bean
		@ConditionalOnMissingBean(name = "reliableKafkaDeadLetterSchemaInitializer")
		TableSchemaInitializer reliableKafkaDeadLetterSchemaInitializer(DataSource dataSource,
				ReliableKafkaIdempotencyProperties properties) {
			return new TableSchemaInitializer(dataSource, ConsumedLedger.deadLetterTable(table(properties)),
					properties.getInitializeSchema());
		}

		private static String table(ReliableKafkaIdempotencyProperties properties) {
			return LibraryTable.checkName(properties.getTable(), "reliable.kafka.consumer.idempotency.table");
		}

		@Bean
		SmartLifecycle reliableKafkaLedgerCleaner(ConsumedLedger ledger, ReliableKafkaIdempotencyProperties properties) {
			return IdempotencyGuards.ledgerCleaner(ledger, properties.getTtl());
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ StringRedisTemplate.class, RedisConnectionFactory.class })
	@ConditionalOnBean(RedisConnectionFactory.class)
	@Conditional(RedisStoreCondition.class)
	static class RedisConfiguration {

		@Bean
		@ConditionalOnMissingBean
		RedisGuards reliableKafkaRedisGuards(RedisConnectionFactory connectionFactory,
				ReliableKafkaIdempotencyProperties properties) {
			StringRedisTemplate redis = new StringRedisTemplate(connectionFactory);
			String unsupported = RedisClusters.isCluster(connectionFactory)
					? "it is a Redis Cluster, and the guards' scripts name keys of different hash slots" : null;
			return new RedisGuards() {

				@Override
				public @Nullable String unsupported() {
					return unsupported;
				}

				@Override
				public IdempotencyGuard redis(GuardListener listener) {
					return IdempotencyGuards.redis(redis, properties.getRedisKeyPrefix(), properties.getTtl(),
							properties.getLease(), properties.getMaxClaims(), listener);
				}

				@Override
				public IdempotencyGuard twoTier(ConsumedLedger ledger, TransactionTemplate transactions,
						GuardListener listener) {
					return IdempotencyGuards.twoTier(redis, properties.getRedisKeyPrefix(), ledger, transactions,
							properties.getTtl(), properties.getLease(), properties.getMaxClaims(), listener);
				}

			};
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	@ConditionalOnBean(MeterRegistry.class)
	static class GuardMetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		MicrometerGuardListener reliableKafkaIdempotencyMetrics(MeterRegistry meterRegistry) {
			return new MicrometerGuardListener(meterRegistry);
		}

	}

	/** Matches when the configured store may use the given stores. */
	abstract static class StoreCondition extends SpringBootCondition {

		private final Set<IdempotencyStore> stores;

		StoreCondition(IdempotencyStore... stores) {
			this.stores = Set.of(stores);
		}

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			IdempotencyStore store = Binder.get(context.getEnvironment())
				.bind(STORE_PROPERTY, IdempotencyStore.class)
				.orElse(IdempotencyStore.AUTO);
			return this.stores.contains(store) ? ConditionOutcome.match(STORE_PROPERTY + " is " + store)
					: ConditionOutcome.noMatch(STORE_PROPERTY + " is " + store);
		}

	}

	static final class LedgerStoreCondition extends StoreCondition {

		LedgerStoreCondition() {
			super(IdempotencyStore.AUTO, IdempotencyStore.JDBC, IdempotencyStore.TWO_TIER);
		}

	}

	static final class RedisStoreCondition extends StoreCondition {

		RedisStoreCondition() {
			super(IdempotencyStore.AUTO, IdempotencyStore.REDIS, IdempotencyStore.TWO_TIER);
		}

	}

}
