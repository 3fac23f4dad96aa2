package io.github.reliablekafka.producer;

/**
 * Customizes the {@link ReliableKafkaTemplateBuilder} of the auto-configured direct (no outbox)
 * {@link ReliableKafkaTemplate}, after the {@code reliable.kafka.producer.*} properties were applied, in bean order:
 * the way to change what the properties do not cover without replacing the template.
 */
@FunctionalInterface
public interface ReliableKafkaTemplateCustomizer {

	/**
	 * Customize the builder.
	 * @param builder the builder, with the properties applied
	 */
	void customize(ReliableKafkaTemplateBuilder builder);

}
