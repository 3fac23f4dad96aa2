package io.github.reliablekafka.consumer;

import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.springframework.kafka.config.KafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerEndpoint;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.support.TopicPartitionOffset;

/**
 * The container factory {@link ReliableListener} names: it passes each endpoint to the factory of its
 * {@link ReliableListener#group() group type}, the {@value ReliableListener#CONTAINER_FACTORY} for consumer groups
 * and the {@value ReliableListener#SHARE_CONTAINER_FACTORY} for share groups. Both are looked up when first needed,
 * so an application's own bean of either name is the one used.
 */
public final class ReliableListenerRouter implements KafkaListenerContainerFactory<MessageListenerContainer> {

	private final Supplier<KafkaListenerContainerFactory<?>> classic;

	private final Supplier<KafkaListenerContainerFactory<?>> share;

	/**
	 * Create the router.
	 * @param classic the container factory of consumer groups
	 * @param share the container factory of share groups
	 */
	public ReliableListenerRouter(Supplier<KafkaListenerContainerFactory<?>> classic,
			Supplier<KafkaListenerContainerFactory<?>> share) {
		this.classic = classic;
		this.share = share;
	}

	@Override
	public MessageListenerContainer createListenerContainer(KafkaListenerEndpoint endpoint) {
		KafkaListenerContainerFactory<?> factory = (ReliableEndpoint.groupOf(endpoint) == GroupType.SHARE)
				? this.share.get() : this.classic.get();
		return factory.createListenerContainer(endpoint);
	}

	@Override
	public MessageListenerContainer createContainer(TopicPartitionOffset... topicPartitions) {
		return this.classic.get().createContainer(topicPartitions);
	}

	@Override
	public MessageListenerContainer createContainer(String... topics) {
		return this.classic.get().createContainer(topics);
	}

	@Override
	public MessageListenerContainer createContainer(Pattern topicPattern) {
		return this.classic.get().createContainer(topicPattern);
	}

}
