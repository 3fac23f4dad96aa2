package io.github.reliablekafka.autoconfigure.observe;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.doctor.ReliableKafkaDoctorAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.outbox.ReliableKafkaOutboxAutoConfiguration;
import io.github.reliablekafka.consumer.ReliableListeners;
import io.github.reliablekafka.doctor.StartupDoctor;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.observe.ConsumerLagMonitor;
import io.github.reliablekafka.observe.LagSnapshotListener;
import io.github.reliablekafka.observe.MessageLookup;
import io.github.reliablekafka.observe.MicrometerLagGauges;
import io.github.reliablekafka.observe.ReliableKafkaEndpoint;
import io.github.reliablekafka.observe.ReliableKafkaHealthIndicator;
import io.github.reliablekafka.observe.ReplayOperations;
import io.github.reliablekafka.outbox.OutboxOperations;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * Auto-configuration of observability and operations: consumer lag (gauge and retention warnings), the health
 * indicator, the {@code reliablekafka} actuator endpoint, {@link ReplayOperations} and the {@link MessageLookup}.
 */
@AutoConfiguration(after = { KafkaAutoConfiguration.class, ReliableKafkaOutboxAutoConfiguration.class,
		ReliableKafkaIdempotencyAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class,
		ReliableKafkaDoctorAutoConfiguration.class },
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnClass(KafkaAdmin.class)
@ConditionalOnBean(KafkaAdmin.class)
@EnableConfigurationProperties(ReliableKafkaObserveProperties.class)
public final class ReliableKafkaObserveAutoConfiguration {

	@Bean
	ConsumerLagMonitor reliableKafkaLagMonitor(SharedAdmin admin,
			ObjectProvider<KafkaListenerEndpointRegistry> registry, ObjectProvider<LagSnapshotListener> listeners,
			ObjectProvider<ReliableListeners> reliableListeners, ReliableKafkaObserveProperties properties) {
		return new ConsumerLagMonitor(admin, () -> groups(registry.getIfAvailable()),
				() -> shareGroups(reliableListeners.getIfAvailable()), properties.getLagInterval(), properties.getTimeout(),
				(snapshot) -> listeners.orderedStream().forEach((listener) -> listener.refreshed(snapshot)));
	}

	@Bean
	@ConditionalOnBean(KafkaListenerEndpointRegistry.class)
	ReplayOperations reliableKafkaReplayOperations(SharedAdmin admin, KafkaListenerEndpointRegistry registry,
			ObjectProvider<ReliableListeners> listeners, ReliableKafkaObserveProperties properties) {
		ReliableListeners reliable = listeners.getIfAvailable();
		return new ReplayOperations(registry, admin, (reliable != null) ? reliable.guardBypass() : null,
				properties.getTimeout());
	}

	@Bean
	@ConditionalOnMissingBean
	MessageLookup reliableKafkaMessageLookup(ObjectProvider<OutboxOperations> outbox,
			ObjectProvider<ReliableIdempotency> idempotency, ObjectProvider<ReliableListeners> listeners) {
		ReliableIdempotency guards = idempotency.getIfAvailable();
		return new MessageLookup(outbox.getIfUnique(), (guards != null) ? guards.guard() : null,
				(guards != null) ? guards.keyStrategy() : null, () -> {
					ReliableListeners reliable = listeners.getIfAvailable();
					return (reliable != null) ? reliable.guardedGroups() : Map.of();
				});
	}

	/** Each consumer group of the application's listener containers, with the topics it consumes. */
	static Map<String, Set<String>> groups(@Nullable KafkaListenerEndpointRegistry registry) {
		Map<String, Set<String>> groups = new TreeMap<>();
		if (registry == null) {
			return groups;
		}
		for (MessageListenerContainer container : registry.getListenerContainers()) {
			String[] topics = container.getContainerProperties().getTopics();
			if (container.getGroupId() != null && topics != null) {
				groups.computeIfAbsent(container.getGroupId(), (group) -> new TreeSet<>()).addAll(Arrays.asList(topics));
			}
		}
		return groups;
	}

	/** The share groups of the application's share-group listeners. */
	static Set<String> shareGroups(@Nullable ReliableListeners listeners) {
		return (listeners != null) ? listeners.shareGroups() : Set.of();
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	@ConditionalOnBean(MeterRegistry.class)
	static class LagMetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		MicrometerLagGauges reliableKafkaLagGauges(MeterRegistry meterRegistry) {
			return new MicrometerLagGauges(meterRegistry);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class })
	@ConditionalOnEnabledHealthIndicator("reliablekafka")
	static class HealthConfiguration {

		@Bean
		@ConditionalOnMissingBean(name = "reliableKafkaHealthIndicator")
		ReliableKafkaHealthIndicator reliableKafkaHealthIndicator(ObjectProvider<OutboxOperations> outbox,
				ObjectProvider<ReliableIdempotency> idempotency, ObjectProvider<ConsumerLagMonitor> lag,
				ReliableKafkaObserveProperties properties) {
			ReliableIdempotency guards = idempotency.getIfAvailable();
			return new ReliableKafkaHealthIndicator(outbox.getIfUnique(), properties.getOutboxAgeThreshold(),
					new Status(properties.getOutboxAgeStatus()), (guards != null) ? guards.guard() : null,
					lag.getIfAvailable(), properties.getLagThreshold(), new Status(properties.getLagStatus()));
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ Endpoint.class, ConditionalOnAvailableEndpoint.class })
	@ConditionalOnAvailableEndpoint(ReliableKafkaEndpoint.class)
	static class EndpointConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ReliableKafkaEndpoint reliableKafkaEndpoint(ObjectProvider<StartupDoctor> doctor,
				ObjectProvider<KafkaListenerEndpointRegistry> registry, ObjectProvider<OutboxOperations> outbox,
				ObjectProvider<ReliableListeners> listeners, ObjectProvider<ConsumerLagMonitor> lag,
				ObjectProvider<ReplayOperations> replay, ObjectProvider<MessageLookup> lookup) {
			return new ReliableKafkaEndpoint(doctor.getIfAvailable(), registry.getIfAvailable(), outbox.getIfUnique(),
					() -> {
						ReliableListeners reliable = listeners.getIfAvailable();
						return (reliable != null) ? reliable.dispatchers() : List.of();
					},
					() -> shareGroups(listeners.getIfAvailable()), lag.getIfAvailable(), replay.getIfAvailable(),
					lookup.getIfAvailable());
		}

	}

}
