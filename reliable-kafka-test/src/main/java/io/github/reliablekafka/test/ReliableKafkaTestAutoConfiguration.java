package io.github.reliablekafka.test;

import java.util.List;

import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.consumer.ListenerOutcomes;
import io.github.reliablekafka.consumer.MicrometerListenerOutcomes;
import io.github.reliablekafka.outbox.OutboxOperations;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.ClassUtils;

/**
 * What {@link AutoConfigureReliableKafkaTest} adds to a test's application: an {@link InJvmKafka} broker when no
 * other Kafka is configured, {@link ListenerCounts} and {@link ReliableKafkaAwait}. Never active outside a test that
 * asks for it (it is not listed among the auto-configurations Spring Boot finds on the class path).
 */
@AutoConfiguration(before = { KafkaAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class },
		afterName = "org.springframework.boot.testcontainers.service.connection.ServiceConnectionAutoConfiguration")
public final class ReliableKafkaTestAutoConfiguration {

	/** The property that turns the in-JVM broker off ({@code none}); by default it starts when needed. */
	public static final String BROKER_PROPERTY = "reliable.kafka.test.broker";

	@Bean
	@ConditionalOnMissingBean(ListenerOutcomes.class)
	ListenerCounts reliableKafkaListenerCounts(ObjectProvider<MeterRegistry> meterRegistry) {
		return new ListenerCounts(meters(meterRegistry));
	}

	private static ListenerOutcomes meters(ObjectProvider<?> meterRegistry) {
		if (!ClassUtils.isPresent("io.micrometer.core.instrument.MeterRegistry",
				ReliableKafkaTestAutoConfiguration.class.getClassLoader())) {
			return ListenerOutcomes.NONE;
		}
		Object registry = meterRegistry.getIfUnique();
		return (registry != null) ? new MicrometerListenerOutcomes((MeterRegistry) registry) : ListenerOutcomes.NONE;
	}

	@Bean
	@ConditionalOnMissingBean
	ReliableKafkaAwait reliableKafkaAwait(ObjectProvider<OutboxOperations> outbox,
			ObjectProvider<ListenerCounts> counts) {
		return new ReliableKafkaAwait(outbox.getIfUnique(), counts.getIfUnique());
	}

	/**
	 * The in-JVM broker: when the test names no Kafka ({@code spring.kafka.bootstrap-servers} unset, no
	 * {@code @ServiceConnection} Kafka container or other {@link KafkaConnectionDetails}) and
	 * {@code reliable.kafka.test.broker} is not {@code none}.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnMissingBean(KafkaConnectionDetails.class)
	@Conditional(NoKafkaConfigured.class)
	static class BrokerConfiguration {

		@Bean(destroyMethod = "close")
		InJvmKafka reliableKafkaTestBroker() {
			return InJvmKafka.start();
		}

		@Bean
		KafkaConnectionDetails reliableKafkaTestConnectionDetails(InJvmKafka broker) {
			return () -> List.of(broker.bootstrapServers());
		}

	}

	/** Matches when no Kafka is named by properties and the in-JVM broker is not turned off. */
	static final class NoKafkaConfigured extends SpringBootCondition {

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			if ("none".equalsIgnoreCase(context.getEnvironment().getProperty(BROKER_PROPERTY, ""))) {
				return ConditionOutcome.noMatch(BROKER_PROPERTY + "=none");
			}
			if (context.getEnvironment().containsProperty("spring.kafka.bootstrap-servers")) {
				return ConditionOutcome.noMatch("spring.kafka.bootstrap-servers is set");
			}
			return ConditionOutcome.match("no Kafka is configured");
		}

	}

}
