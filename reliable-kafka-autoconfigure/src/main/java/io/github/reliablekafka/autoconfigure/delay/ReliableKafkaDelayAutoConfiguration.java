package io.github.reliablekafka.autoconfigure.delay;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import io.github.reliablekafka.delay.DelaySettings;
import io.github.reliablekafka.delay.DelayTopics;
import io.github.reliablekafka.delay.DelayedRedelivery;
import io.github.reliablekafka.delay.Delays;
import io.github.reliablekafka.internal.BytesConsumerFactory;
import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.internal.TemplateObservation;
import io.github.reliablekafka.support.RecordTracing;
import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import io.micrometer.observation.ObservationRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

/**
 * Auto-configuration of delayed delivery through tier topics: the tiers (which
 * {@code ReliableKafkaTemplate.sendDelayed} uses when there is no outbox), their topics (created on first use), the
 * forwarder (started once the topics exist), and the redelivery behind {@code RetryLaterException}.
 */
@AutoConfiguration(after = KafkaAutoConfiguration.class,
		beforeName = { "io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration",
				"io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration" })
@ConditionalOnClass({ KafkaTemplate.class, KafkaAutoConfiguration.class })
@ConditionalOnBean(ProducerFactory.class)
@ConditionalOnProperty(prefix = "reliable.kafka.delay", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(ReliableKafkaDelayProperties.class)
public final class ReliableKafkaDelayAutoConfiguration {

	private static final String APPLICATION_NAME = "${spring.application.name}";

	/** How long looking for or creating the tier topics may take. */
	private static final Duration TOPICS_TIMEOUT = Duration.ofSeconds(10);

	@Bean
	DelayTopics reliableKafkaDelayTopics(ProducerFactory<?, ?> producerFactory, SharedAdmin admin,
			ObjectProvider<ConsumerFactory<?, ?>> consumerFactory, ReliableKafkaDelayProperties properties,
			Environment environment, ObjectProvider<KafkaProperties> kafkaPropertiesProvider,
			ObjectProvider<ObservationRegistry> observationRegistry, ObjectProvider<RecordTracing> tracing) {
		KafkaProperties kafkaProperties = kafkaPropertiesProvider.getIfAvailable(KafkaProperties::new);
		if (properties.getPartitions() < 1) {
			throw new IllegalStateException("reliable.kafka.delay.partitions must be at least 1, not "
					+ properties.getPartitions());
		}
		ConsumerFactory<?, ?> consumers = consumerFactory.getIfUnique();
		boolean forwarder = properties.getForwarder().isEnabled() && consumers != null;
		DelaySettings settings = new DelaySettings(properties.getTiers(), topicPrefix(properties, environment),
				deadLetterTopic(properties, environment), properties.getPartitions(),
				properties.getReplicationFactor(), properties.isCreateTopicsAtStartup(), TOPICS_TIMEOUT,
				allowedTargets(properties), maxDelay(properties),
				forwarder ? perApplication(properties.getGroupId(), environment) : null,
				properties.getForwarder().getSendTimeout());
		try {
			return Delays.topics(settings, admin, producerFactory,
					forwarder ? forwarderConsumers(consumers) : null,
					new TemplateObservation(kafkaProperties.getTemplate().isObservationEnabled(),
							observationRegistry.getIfUnique()),
					tracing.getIfAvailable(() -> RecordTracing.NONE));
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(ex.getMessage(), ex);
		}
	}

	@Bean
	DelayedRedelivery reliableKafkaDelayedRedelivery(DelayTopics topics, ReliableKafkaDelayProperties properties) {
		try {
			return Delays.redelivery(topics, properties.getMaxAttempts(), properties.getForwarder().getSendTimeout());
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(ex.getMessage(), ex);
		}
	}

	private static ConsumerFactory<String, byte[]> forwarderConsumers(ConsumerFactory<?, ?> consumerFactory) {
		// a short fetch wait: a partition resumed when its head is due is fetched at once, not after another
		// partition's long poll
		Map<String, Object> overrides = Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100,
				ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
		return BytesConsumerFactory.from(consumerFactory, overrides);
	}

	private static String deadLetterTopic(ReliableKafkaDelayProperties properties, Environment environment) {
		return topicPrefix(properties, environment) + "dlt";
	}

	private static String topicPrefix(ReliableKafkaDelayProperties properties, Environment environment) {
		return perApplication(properties.getTopicPrefix(), environment);
	}

	/**
	 * Resolve a name with {@code ${spring.application.name}} in it: the application's name, in the characters a topic
	 * name may have; without one, the part is left out with the dash next to it ({@code rk-delay-${spring.application.name}-}
	 * becomes {@code rk-delay-}, {@code rk-delay-forwarder-${spring.application.name}} becomes {@code rk-delay-forwarder}).
	 */
	static String perApplication(String name, Environment environment) {
		String application = environment.getProperty("spring.application.name");
		String named;
		if (application != null && !application.isBlank()) {
			named = name.replace(APPLICATION_NAME, application.trim().replaceAll("[^a-zA-Z0-9._-]", "-"));
		}
		else {
			named = name.replace("-" + APPLICATION_NAME, "").replace(APPLICATION_NAME + "-", "").replace(APPLICATION_NAME,
					"");
		}
		return environment.resolvePlaceholders(named);
	}

	private static List<Pattern> allowedTargets(ReliableKafkaDelayProperties properties) {
		try {
			return properties.getAllowedTargets().stream().map(Pattern::compile).toList();
		}
		catch (PatternSyntaxException ex) {
			throw new ReliableKafkaConfigurationException("reliable.kafka.delay.allowed-targets has a pattern that is "
					+ "not a regular expression: " + ex.getMessage(), "Correct the pattern (a Java regular expression "
							+ "matching whole topic names, such as orders\\..*).", ex);
		}
	}

	private static Duration maxDelay(ReliableKafkaDelayProperties properties) {
		if (properties.getMaxDelay() == null || properties.getMaxDelay().isNegative() || properties.getMaxDelay().isZero()) {
			throw new ReliableKafkaConfigurationException("reliable.kafka.delay.max-delay must be positive, was "
					+ properties.getMaxDelay() + ".", "Set it to the longest delay the application uses, such as 30d.");
		}
		return properties.getMaxDelay();
	}

}
