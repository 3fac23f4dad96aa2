package io.github.reliablekafka.delay;

import java.time.Duration;

import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.internal.TemplateObservation;
import io.github.reliablekafka.support.RecordTracing;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.ProducerFactory;

/**
 * Builds delayed delivery for the auto-configuration: the tiers, the producer that writes to them and the forwarder
 * stay package-private, owned by the {@link DelayTopics} returned.
 */
public final class Delays {

	private Delays() {
	}

	/**
	 * Build the tier topics' keeper, with its sender and, when settings name a forwarder group, its forwarder.
	 * @param settings how delayed delivery works
	 * @param admin the admin client to ask the cluster with
	 * @param producerFactory the application's producer factory, whose settings the sender takes
	 * @param forwarderConsumers creates the forwarder's consumer (auto-commit off, byte-array values); {@code null}
	 * when this application runs no forwarder
	 * @param observation whether the sender's template is observed (Spring Boot's template observation setting)
	 * @param tracing carries senders' trace contexts through the tiers
	 * @return the keeper: a lifecycle bean that closes its producer when destroyed
	 * @throws IllegalArgumentException when the tiers are empty, not positive or repeated
	 */
	public static DelayTopics topics(DelaySettings settings, SharedAdmin admin, ProducerFactory<?, ?> producerFactory,
			@Nullable ConsumerFactory<String, byte[]> forwarderConsumers, TemplateObservation observation,
			RecordTracing tracing) {
		DelayTiers tiers = new DelayTiers(settings.tiers(), settings.topicPrefix());
		DelaySender sender = new DelaySender(producerFactory, observation, tracing);
		DelayForwarder forwarder = (settings.forwarderGroupId() != null && forwarderConsumers != null)
				? new DelayForwarder(tiers, forwarderConsumers, settings.forwarderGroupId(), sender,
						settings.sendTimeout(), settings.deadLetterTopic(), settings.allowedTargets(),
						settings.maxDelay())
				: null;
		return new DelayTopics(tiers, settings.deadLetterTopic(), admin, settings.partitions(),
				settings.replicationFactor(), forwarder, settings.createAtStartup(), settings.topicsTimeout(),
				settings.allowedTargets(), settings.maxDelay(), sender);
	}

	/**
	 * Build the redelivery of records whose handler asked to be retried later.
	 * @param topics the tiers' keeper, whose sender it writes with
	 * @param maxAttempts how many times one record may come back; after that it goes to the dead-letter topic
	 * @param sendTimeout how long to wait for Kafka to confirm the tier record
	 * @return the redelivery
	 * @throws IllegalArgumentException when {@code maxAttempts} is below 1
	 */
	public static DelayedRedelivery redelivery(DelayTopics topics, int maxAttempts, Duration sendTimeout) {
		return new DelayedRedelivery(topics, topics.sender().template(), maxAttempts, sendTimeout);
	}

}
