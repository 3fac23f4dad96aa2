package io.github.reliablekafka.consumer;

/**
 * Customizes the auto-configured {@link ReliableKafkaListenerContainerFactory} behind {@link ReliableListener}, after
 * Spring Boot's {@code spring.kafka.listener.*} settings and the {@code reliable.kafka.consumer.*} properties were
 * applied, in bean order. The library's checks of each container (its consumer configuration, its listener method) still
 * run when the container is created.
 */
@FunctionalInterface
public interface ReliableListenerContainerFactoryCustomizer {

	/**
	 * Customize the factory.
	 * @param factory the factory, configured
	 */
	void customize(ReliableKafkaListenerContainerFactory factory);

}
