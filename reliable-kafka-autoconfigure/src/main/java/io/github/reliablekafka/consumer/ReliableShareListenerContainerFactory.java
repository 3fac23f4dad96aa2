package io.github.reliablekafka.consumer;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory.ReliableListenerSettings;
import io.github.reliablekafka.delay.DelayedRedelivery;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.internal.BytesShareConsumerFactory;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import io.github.reliablekafka.support.RkHeaders;
import io.micrometer.observation.ObservationRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.kafka.config.KafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerEndpoint;
import org.springframework.kafka.config.MethodKafkaListenerEndpoint;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.core.ShareConsumerFactory;
import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.CompositeRecordInterceptor;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.ListenerExecutionFailedException;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.listener.RecordInterceptor;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.kafka.support.TopicPartitionOffset;

/**
 * The container factory of {@link ReliableListener} methods with {@code group = GroupType.SHARE}. Each container it
 * creates reads in a share group with explicit per-record acknowledgement, runs the same chain as a consumer-group
 * listener (payload codec, idempotency guard, retry-later, null-payload handling and outcome counts, tagged
 * {@code group-type=share}), and ends each delivery as {@link ShareRecordHandler} decides. Share consumers read with
 * Boot's {@code spring.kafka.consumer.*} settings, less those share groups do not have (offset reset, isolation,
 * session and heartbeat settings belong to the group on the broker).
 */
public class ReliableShareListenerContainerFactory implements KafkaListenerContainerFactory<MessageListenerContainer>,
		DisposableBean {

	/** Parameters a share-group listener method cannot have: the library acknowledges, and owns the consumer. */
	private static final java.util.List<Class<?>> NOT_GIVEN = java.util.List.of(
			org.springframework.kafka.support.Acknowledgment.class,
			org.springframework.kafka.support.ShareAcknowledgment.class, org.apache.kafka.clients.consumer.Consumer.class,
			org.apache.kafka.clients.consumer.ShareConsumer.class);

	private final ReliableListenerSettings settings;

	private final KafkaOperations<String, byte[]> deadLetterTemplate;

	private final ListenerOutcomes outcomes;

	private final @Nullable RecordInterceptor<String, byte[]> applicationInterceptor;

	private final ReliableListeners listeners;

	private final @Nullable AutoCloseable resources;

	private final ShareConsumerFactory<String, byte[]> consumerFactory;

	private final ShareGroups groups;

	private PayloadMessageConverter converter;

	private PayloadCodec codec = PayloadCodec.fastjson2();

	private @Nullable ReliableIdempotency idempotency;

	private @Nullable ObservationRegistry observations;

	private DeadLetterRecords deadLetterRecords = DeadLetterRecords.NONE;

	private @Nullable DelayedRedelivery redelivery;

	private int concurrency = 1;

	/**
	 * Create a factory.
	 * @param settings retries, dead letters and null payloads, as for consumer-group listeners
	 * @param deadLetterTemplate publishes dead letters
	 * @param outcomes counts outcomes
	 * @param applicationInterceptor the application's own record interceptor, called first; may be {@code null}
	 * @param resources closed with the factory (the dead-letter producer); may be {@code null}
	 * @param listeners where the listeners this factory creates are registered
	 * @param consumerFactory creates the share consumers ({@code String} keys, {@code byte[]} values)
	 * @param admin the library's admin client, to read the broker's share-group settings
	 * @param autoOffsetReset where a new share group starts ({@code earliest} or {@code latest})
	 */
	public ReliableShareListenerContainerFactory(ReliableListenerSettings settings,
			KafkaOperations<String, byte[]> deadLetterTemplate, ListenerOutcomes outcomes,
			@Nullable RecordInterceptor<String, byte[]> applicationInterceptor, @Nullable AutoCloseable resources,
			ReliableListeners listeners, ShareConsumerFactory<String, byte[]> consumerFactory, Supplier<Admin> admin,
			String autoOffsetReset) {
		this.resources = resources;
		this.settings = settings;
		this.deadLetterTemplate = deadLetterTemplate;
		this.outcomes = outcomes;
		this.applicationInterceptor = applicationInterceptor;
		this.listeners = listeners;
		this.consumerFactory = consumerFactory;
		this.groups = new ShareGroups(admin, autoOffsetReset);
		this.converter = new PayloadMessageConverter(this.codec, settings.nullPayload());
	}

	/**
	 * Read payloads with the codec: the method's parameter type decides what each payload is read as.
	 * @param codec the application's payload codec
	 */
	public void setPayloadCodec(PayloadCodec codec) {
		this.codec = codec;
		this.converter = new PayloadMessageConverter(codec, this.settings.nullPayload());
	}

	/**
	 * Run each delivery inside a listener observation, as spring-kafka's containers do with
	 * {@code spring.kafka.listener.observation-enabled}.
	 * @param observations the application's registry
	 */
	public void setObservationRegistry(ObservationRegistry observations) {
		this.observations = observations;
	}

	/**
	 * Run every listener inside an idempotency guard.
	 * @param idempotency the guard and key strategy; a {@code null} guard means none
	 */
	public void setIdempotency(ReliableIdempotency idempotency) {
		this.idempotency = idempotency;
		this.deadLetterRecords = new DeadLetterRecords(idempotency.guard());
	}

	/**
	 * Let listeners throw {@link io.github.reliablekafka.delay.RetryLaterException}.
	 * @param redelivery sends records to the delay tiers
	 */
	public void setRetryLater(DelayedRedelivery redelivery) {
		this.redelivery = redelivery;
	}

	/**
	 * Set the number of share consumers of a listener that does not set its own {@code concurrency}.
	 * @param concurrency the number, at least 1
	 */
	public void setConcurrency(int concurrency) {
		this.concurrency = concurrency;
	}

	@Override
	public MessageListenerContainer createListenerContainer(KafkaListenerEndpoint endpoint) {
		String id = (endpoint.getId() != null) ? endpoint.getId() : String.valueOf(endpoint.getTopics());
		Method method = (endpoint instanceof MethodKafkaListenerEndpoint<?, ?> methodEndpoint)
				? methodEndpoint.getMethod() : null;
		ReliableListener annotation = (method != null)
				? AnnotatedElementUtils.findMergedAnnotation(method, ReliableListener.class) : null;
		ReliableEndpoint reliable = new ReliableEndpoint(id, method, Boolean.TRUE.equals(endpoint.getBatchListener()),
				(annotation != null) ? annotation.idempotencyKey() : "",
				(annotation != null) ? annotation.ordering() : Ordering.PARTITION, -1, GroupType.SHARE);
		check(reliable, endpoint);
		ContainerProperties properties = new ContainerProperties(endpoint.getTopics().toArray(String[]::new));
		String group = (endpoint.getGroupId() != null) ? endpoint.getGroupId()
				: (String) this.consumerFactory.getConfigurationProperties().get(ConsumerConfig.GROUP_ID_CONFIG);
		properties.setGroupId((group != null) ? group : id);
		ReliableShareListenerContainer container = new ReliableShareListenerContainer(id,
				new EndpointConsumers(this.consumerFactory, endpoint.getConsumerProperties()), properties, this.groups);
		container.setConcurrency((endpoint.getConcurrency() != null) ? endpoint.getConcurrency() : this.concurrency);
		container.setLongestBackOff(this.settings.retry().maxDelay());
		if (endpoint.getAutoStartup() != null) {
			container.setAutoStartup(endpoint.getAutoStartup());
		}
		endpoint.setupListenerContainer(container, this.converter);
		Object listener = properties.getMessageListener();
		if (listener == null) {
			throw new IllegalStateException("Reliable listener '" + id + "' has no message listener");
		}
		container.setHandler(handler(reliable, listener, properties.getGroupId(),
				java.util.List.copyOf(endpoint.getTopics())));
		this.listeners.listens(java.util.List.copyOf(endpoint.getTopics()));
		this.listeners.readsInShareGroup(properties.getGroupId());
		return container;
	}

	private void check(ReliableEndpoint endpoint, KafkaListenerEndpoint source) {
		if (endpoint.method() != null) {
			ListenerMethodCheck.check(endpoint.method(), endpoint.batch(), endpoint.idempotencyKey());
			for (Class<?> type : endpoint.method().getParameterTypes()) {
				if (NOT_GIVEN.stream().anyMatch((given) -> given.isAssignableFrom(type))) {
					throw new ReliableKafkaConfigurationException("Reliable listener '" + endpoint.id() + "' ("
							+ endpoint.method().getDeclaringClass().getSimpleName() + "." + endpoint.method().getName()
							+ ") takes a parameter of type " + type.getSimpleName() + ": a share-group listener's records are "
							+ "acknowledged by the library, after the method returns, and its consumer is the "
							+ "library's.", "Remove the parameter; throw to fail a record (it is retried, then "
									+ "dead-lettered), return to accept it.");
				}
			}
		}
		if (endpoint.ordering() != Ordering.PARTITION) {
			throw new ReliableKafkaConfigurationException("Reliable listener '" + endpoint.id() + "' reads in a share "
					+ "group with ordering=" + endpoint.ordering() + ": a share group has no order to keep; its "
					+ "consumers take records one by one.", "Remove ordering (share groups scale by concurrency), or "
							+ "use group = GroupType.CLASSIC for per-key order.");
		}
		if (source.getTopicPattern() != null || (source.getTopicPartitionsToAssign() != null
				&& source.getTopicPartitionsToAssign().length > 0) || source.getTopics().isEmpty()) {
			throw new ReliableKafkaConfigurationException("Reliable listener '" + endpoint.id() + "' reads in a share "
					+ "group without a list of topics: share groups subscribe to named topics only.",
					"Name the topics with topics = {...}.");
		}
	}

	@SuppressWarnings("unchecked")
	private ShareRecordHandler handler(ReliableEndpoint endpoint, Object listener, String group,
			java.util.List<String> topics) {
		if (!(listener instanceof AcknowledgingConsumerAwareMessageListener<?, ?> application)) {
			throw new IllegalStateException("Reliable listener '" + endpoint.id() + "' must be a record listener");
		}
		ListenerOutcomes shareOutcomes = (name, result) -> this.outcomes.record(name, GroupType.SHARE, result);
		AcknowledgingConsumerAwareMessageListener<String, byte[]> chain = new ListenerChain(this.idempotency,
				this.codec, this.listeners, this.redelivery)
			.build((AcknowledgingConsumerAwareMessageListener<String, byte[]>) application, endpoint, group, topics,
					false, false);
		RecordInterceptor<String, byte[]> interceptor = new ReliableRecordInterceptor(endpoint.id(),
				this.settings.nullPayload(), shareOutcomes);
		RecordInterceptor<String, byte[]> interceptors = (this.applicationInterceptor != null)
				? new CompositeRecordInterceptor<>(this.applicationInterceptor, interceptor) : interceptor;
		RetryDecision decision = new RetryDecision(this.settings);
		DeadLetterPublishingRecoverer recoverer = ReliableErrorHandlers.recoverer(this.settings,
				this.deadLetterTemplate, group, this.deadLetterRecords);
		recoverer.setHeadersFunction((record, ex) -> {
			RecordHeaders headers = new RecordHeaders();
			headers.add(RkHeaders.DELIVERY_COUNT, Integer.toString(ShareRecordHandler.deliveryOf(record))
				.getBytes(StandardCharsets.UTF_8));
			if (!(ex instanceof ListenerExecutionFailedException failed && failed.getGroupId() != null)) {
				// spring-kafka names the group only from a listener failure that carries it
				headers.add(KafkaHeaders.DLT_ORIGINAL_CONSUMER_GROUP, group.getBytes(StandardCharsets.UTF_8));
			}
			return headers;
		});
		return new ShareRecordHandler(endpoint.id(), chain, interceptors, decision, recoverer,
				new ReliableErrorHandlers.Outcomes(endpoint.id(), this.settings, decision, shareOutcomes),
				this.observations);
	}

	@Override
	public void destroy() throws Exception {
		this.deadLetterRecords.close();
		if (this.resources != null) {
			this.resources.close();
		}
	}

	@Override
	public MessageListenerContainer createContainer(TopicPartitionOffset... topicPartitions) {
		throw unsupported();
	}

	@Override
	public MessageListenerContainer createContainer(String... topics) {
		throw unsupported();
	}

	@Override
	public MessageListenerContainer createContainer(Pattern topicPattern) {
		throw unsupported();
	}

	private static UnsupportedOperationException unsupported() {
		return new UnsupportedOperationException("Share-group listeners are created from @ReliableListener(group = "
				+ "GroupType.SHARE) methods");
	}

	/**
	 * The share consumers of one endpoint: the factory's settings, and the endpoint's own {@code properties} those
	 * that share consumers have.
	 */
	private record EndpointConsumers(ShareConsumerFactory<String, byte[]> factory,
			@Nullable Properties endpointProperties) implements ShareConsumerFactory<String, byte[]> {

		@Override
		public org.apache.kafka.clients.consumer.ShareConsumer<String, byte[]> createShareConsumer(String groupId,
				String clientId) {
			return createShareConsumer(groupId, clientId, Map.of());
		}

		@Override
		public org.apache.kafka.clients.consumer.ShareConsumer<String, byte[]> createShareConsumer(String groupId,
				String clientId, Map<String, Object> overrides) {
			Map<String, Object> merged = new HashMap<>();
			if (this.endpointProperties != null) {
				this.endpointProperties.stringPropertyNames()
					.forEach((name) -> merged.put(name, this.endpointProperties.getProperty(name)));
				BytesShareConsumerFactory.withoutUnsupported(merged);
			}
			merged.putAll(overrides);
			return this.factory.createShareConsumer(groupId, clientId, merged);
		}

		@Override
		public Map<String, Object> getConfigurationProperties() {
			return this.factory.getConfigurationProperties();
		}

	}

}
