package io.github.reliablekafka.consumer;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.reliablekafka.delay.DelayedRedelivery;
import io.github.reliablekafka.dispatch.DispatchObserver;
import io.github.reliablekafka.dispatch.DispatchSettings;
import io.github.reliablekafka.dispatch.KeyOrderedDispatcher;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyKeyResolver;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.support.PartitionSeeker;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import io.github.reliablekafka.support.RetryBackoff;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerEndpoint;
import org.springframework.kafka.config.MethodKafkaListenerEndpoint;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.CompositeRecordInterceptor;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ConsumerAwareRebalanceListener;
import org.springframework.kafka.listener.ConsumerSeekAware;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.ContainerProperties.AckMode;
import org.springframework.kafka.listener.ContainerProperties.AssignmentCommitOption;
import org.springframework.kafka.listener.RecordInterceptor;

/**
 * The container factory behind {@link ReliableListener}. Its consumers read {@code String} keys and {@code byte[]}
 * values with auto-commit off, and each container it creates gets an error handler (retries with back-off, then the
 * dead-letter topic) and a record interceptor (null payloads, outcome counts) that know the listener's id.
 *
 * <p>
 * <b>Fail fast:</b> each listener's method ({@link ListenerMethodCheck}) and consumer configuration
 * ({@link ConsumerConfigCheck}) are checked as its container is created; what would weaken a guarantee stops the
 * application at startup with a message that says what to change.
 */
public class ReliableKafkaListenerContainerFactory extends ConcurrentKafkaListenerContainerFactory<String, byte[]>
		implements DisposableBean {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaListenerContainerFactory.class);

	private final ReliableListenerSettings settings;

	private final KafkaOperations<String, byte[]> deadLetterTemplate;

	private final ListenerOutcomes outcomes;

	private final @Nullable RecordInterceptor<String, byte[]> applicationInterceptor;

	private final @Nullable AutoCloseable resources;

	private @Nullable ReliableIdempotency idempotency;

	private PayloadCodec codec = PayloadCodec.fastjson2();

	private final Set<String> topics = ConcurrentHashMap.newKeySet();

	private DispatchSettings dispatchDefaults = new DispatchSettings(Ordering.KEY, 16, 256, 1000, 64L << 20,
			Duration.ofSeconds(10), false, Duration.ofSeconds(30));

	private DispatchObserver dispatchObserver = DispatchObserver.NONE;

	private final List<KeyOrderedDispatcher> dispatchers = new CopyOnWriteArrayList<>();

	private @Nullable DelayedRedelivery redelivery;

	private final GuardBypass guardBypass = new GuardBypass();

	/**
	 * Create a factory; set its consumer factory before use.
	 * @param settings retries, dead letters and null payloads
	 * @param deadLetterTemplate publishes dead letters
	 * @param outcomes counts outcomes
	 * @param applicationInterceptor the application's own record interceptor, called first; may be {@code null}
	 * @param resources closed with the factory (the dead-letter producer); may be {@code null}
	 */
	public ReliableKafkaListenerContainerFactory(ReliableListenerSettings settings,
			KafkaOperations<String, byte[]> deadLetterTemplate, ListenerOutcomes outcomes,
			@Nullable RecordInterceptor<String, byte[]> applicationInterceptor, @Nullable AutoCloseable resources) {
		this.settings = settings;
		this.deadLetterTemplate = deadLetterTemplate;
		this.outcomes = outcomes;
		this.applicationInterceptor = applicationInterceptor;
		this.resources = resources;
	}

	/**
	 * Run every listener inside an idempotency guard.
	 * @param idempotency the guard and key strategy; a {@code null} guard means none
	 * @param codec reads payloads for key expressions
	 */
	public void setIdempotency(ReliableIdempotency idempotency, PayloadCodec codec) {
		this.idempotency = idempotency;
		this.codec = codec;
	}

	/**
	 * Set the defaults of listeners with {@link Ordering#KEY} or {@link Ordering#NONE}.
	 * @param defaults the default bounds (their ordering is replaced by each listener's)
	 * @param observer publishes the dispatchers' gauges
	 */
	public void setDispatch(DispatchSettings defaults, DispatchObserver observer) {
		this.dispatchDefaults = defaults;
		this.dispatchObserver = observer;
	}

	/**
	 * Let listeners throw {@link io.github.reliablekafka.delay.RetryLaterException} to have a record come back
	 * later through the delay tiers. Without it, that exception is a failure like any other.
	 * @param redelivery sends records to the tiers
	 */
	public void setRetryLater(DelayedRedelivery redelivery) {
		this.redelivery = redelivery;
	}

	/**
	 * Return the dispatchers of the listeners created so far with {@link Ordering#KEY} or {@link Ordering#NONE}.
	 * @return the dispatchers
	 */
	public List<KeyOrderedDispatcher> dispatchers() {
		return List.copyOf(this.dispatchers);
	}

	/**
	 * Return the records operators replay without the idempotency guard.
	 * @return the bypass of this factory's listeners
	 */
	public GuardBypass guardBypass() {
		return this.guardBypass;
	}

	/**
	 * Return the topics of the listeners created so far (not patterns).
	 * @return the topics
	 */
	public Set<String> listenedTopics() {
		return Set.copyOf(this.topics);
	}

	@Override
	protected void initializeContainer(ConcurrentMessageListenerContainer<String, byte[]> instance,
			KafkaListenerEndpoint endpoint) {
		super.initializeContainer(instance, endpoint);
		String listener = listenerId(instance, endpoint);
		Method method = (endpoint instanceof MethodKafkaListenerEndpoint<?, ?> methodEndpoint) ? methodEndpoint.getMethod()
				: null;
		ReliableListener annotation = (method != null)
				? AnnotatedElementUtils.findMergedAnnotation(method, ReliableListener.class) : null;
		if (method != null) {
			boolean batch = Boolean.TRUE.equals(endpoint.getBatchListener())
					|| (endpoint.getBatchListener() == null && Boolean.TRUE.equals(isBatchListener()));
			ListenerMethodCheck.check(method, batch, (annotation != null) ? annotation.idempotencyKey() : "");
		}
		ConsumerConfigCheck.check(listener, effectiveConsumerConfig(instance), this.settings.retry().totalDelay());
		instance.setCommonErrorHandler(errorHandler(listener));
		String[] listened = instance.getContainerProperties().getTopics();
		if (listened != null) {
			this.topics.addAll(List.of(listened));
		}
		guard(instance, method, annotation, listener);
		retryLater(instance, listener);
		RecordInterceptor<String, byte[]> interceptor = new ReliableRecordInterceptor(listener,
				this.settings.nullPayload(), this.outcomes);
		RecordInterceptor<String, byte[]> interceptors = (this.applicationInterceptor != null)
				? new CompositeRecordInterceptor<>(this.applicationInterceptor, interceptor) : interceptor;
		DispatchSettings dispatch = dispatchSettings(annotation, listener);
		if (dispatch != null) {
			dispatch(instance, listener, dispatch, interceptors);
		}
		else {
			instance.setRecordInterceptor(interceptors);
			seekable(instance);
		}
	}

	/**
	 * The dispatch settings of a listener with {@link Ordering#KEY} or {@link Ordering#NONE}; {@code null} for
	 * {@link Ordering#PARTITION}.
	 */
	private @Nullable DispatchSettings dispatchSettings(@Nullable ReliableListener annotation, String listener) {
		if (annotation == null || annotation.ordering() == Ordering.PARTITION) {
			return null;
		}
		if (annotation.workers() == 0 || annotation.workers() < -1) {
			throw new ReliableKafkaConfigurationException("Reliable listener '" + listener + "' has workers="
					+ annotation.workers() + ".", "Give at least 1 worker per partition, or -1 for "
							+ "reliable.kafka.consumer.dispatch.workers.");
		}
		int workers = (annotation.workers() > 0) ? annotation.workers() : this.dispatchDefaults.workers();
		return this.dispatchDefaults.with(annotation.ordering(), workers);
	}

	/**
	 * Make the container dispatch its records to key-ordered lanes: the dispatcher is its message listener (in
	 * {@code MANUAL} acknowledgement mode) and its rebalance listener; retries, dead letters and the interceptors run
	 * on the lanes.
	 */
	@SuppressWarnings("unchecked")
	private void dispatch(ConcurrentMessageListenerContainer<String, byte[]> instance, String listener,
			DispatchSettings dispatch, RecordInterceptor<String, byte[]> interceptors) {
		ContainerProperties properties = instance.getContainerProperties();
		Object messageListener = properties.getMessageListener();
		if (!(messageListener instanceof AcknowledgingConsumerAwareMessageListener<?, ?> delegate)) {
			throw new IllegalStateException("Reliable listener '" + listener + "' with ordering=" + dispatch.ordering()
					+ " must be a record listener, not a batch listener");
		}
		RetryDecision decision = new RetryDecision(this.settings);
		ReliableErrorHandlers.Outcomes failures = new ReliableErrorHandlers.Outcomes(listener, this.settings, decision,
				this.outcomes);
		DispatchedRecordHandler handler = new DispatchedRecordHandler(
				(AcknowledgingConsumerAwareMessageListener<String, byte[]>) delegate, interceptors, decision,
				ReliableErrorHandlers.recoverer(this.settings, this.deadLetterTemplate), failures);
		ConsumerAwareRebalanceListener existing = (properties
			.getConsumerRebalanceListener() instanceof ConsumerAwareRebalanceListener aware) ? aware : null;
		if (properties.getConsumerRebalanceListener() != null && existing == null) {
			throw new IllegalStateException("Reliable listener '" + listener + "' with ordering=" + dispatch.ordering()
					+ " needs its container's rebalance listener to be a ConsumerAwareRebalanceListener");
		}
		if (properties.getOffsetAndMetadataProvider() != null) {
			throw new IllegalStateException("Reliable listener '" + listener + "' with ordering=" + dispatch.ordering()
					+ " writes its own commit metadata; remove the container's OffsetAndMetadataProvider");
		}
		KeyOrderedDispatcher dispatcher = new KeyOrderedDispatcher(listener, dispatch, handler,
				properties.getObservationRegistry(), this.dispatchObserver, existing);
		dispatcher.bind(instance);
		// the interceptors run on the lanes; the container's one only marks where each poll's records end
		instance.setRecordInterceptor(dispatcher.pollBoundary());
		properties.setAckMode(AckMode.MANUAL);
		properties.setAsyncAcks(false);
		properties.setMessageListener(dispatcher);
		properties.setConsumerRebalanceListener(dispatcher);
		properties.setOffsetAndMetadataProvider(dispatcher.commitMetadata());
		// the dispatcher commits the position of a partition without a commit itself: every commit the container
		// makes must be of an offset the dispatcher acknowledged
		dispatcher.commitOnAssignment(properties.getAssignmentCommitOption() != AssignmentCommitOption.NEVER);
		properties.setAssignmentCommitOption(AssignmentCommitOption.NEVER);
		if (properties.getPollTimeout() > KeyOrderedDispatcher.MAX_POLL_TIMEOUT.toMillis()) {
			// the consumer commits what the workers acknowledged when its poll returns; with every partition paused
			// that is after the whole poll timeout (5 s by default)
			properties.setPollTimeout(KeyOrderedDispatcher.MAX_POLL_TIMEOUT.toMillis());
		}
		long shutdown = dispatch.drainTimeout().toMillis() + 5_000;
		if (properties.getShutdownTimeout() < shutdown) {
			properties.setShutdownTimeout(shutdown);
		}
		this.dispatchers.add(dispatcher);
		logger.info("Reliable listener '{}' dispatches each partition's records to {} workers over {} lanes (ordering {}, "
				+ "at most {} threads, {} records in flight per partition)", listener, dispatch.workers(),
				dispatch.lanes(), dispatch.ordering(), dispatch.maxThreads(), dispatch.maxInFlightPerPartition());
	}

	/**
	 * Put the listener inside the idempotency guard, keyed per the listener's {@code idempotencyKey} or the default
	 * strategy, scoped to its consumer group.
	 */
	@SuppressWarnings("unchecked")
	private void guard(ConcurrentMessageListenerContainer<String, byte[]> instance, @Nullable Method method,
			@Nullable ReliableListener annotation, String listener) {
		IdempotencyGuard guard = (this.idempotency != null) ? this.idempotency.guard() : null;
		Object messageListener = instance.getContainerProperties().getMessageListener();
		if (guard == null || !(messageListener instanceof AcknowledgingConsumerAwareMessageListener<?, ?> delegate)) {
			return;
		}
		String expression = (annotation != null) ? annotation.idempotencyKey() : "";
		IdempotencyKeyResolver keys = new IdempotencyKeyResolver(this.idempotency.keyStrategy(), expression,
				(method != null) ? ListenerMethods.payloadType(method) : null, this.codec);
		String group = instance.getGroupId();
		if (group == null) {
			throw new IllegalStateException("Reliable listener '" + listener + "' has no consumer group: the "
					+ "idempotency guard scopes keys by group. Set groupId or spring.kafka.consumer.group-id.");
		}
		instance.getContainerProperties().setMessageListener(new GuardedMessageListener(
				(AcknowledgingConsumerAwareMessageListener<String, byte[]>) delegate, guard, keys, group, listener,
				this.guardBypass));
	}

	/**
	 * Put the (guarded) listener inside the retry-later handling, so that a record sent to the delay tiers has rolled
	 * back its guarded transaction first.
	 */
	@SuppressWarnings("unchecked")
	private void retryLater(ConcurrentMessageListenerContainer<String, byte[]> instance, String listener) {
		Object messageListener = instance.getContainerProperties().getMessageListener();
		if (this.redelivery != null
				&& messageListener instanceof AcknowledgingConsumerAwareMessageListener<?, ?> delegate) {
			instance.getContainerProperties().setMessageListener(new RetryLaterMessageListener(
					(AcknowledgingConsumerAwareMessageListener<String, byte[]>) delegate, this.redelivery, listener));
		}
	}

	/**
	 * Make the outermost listener seek-aware: replay in place, and the application's own {@link ConsumerSeekAware}
	 * listener keeps its callbacks under the library's wrappers.
	 */
	@SuppressWarnings("unchecked")
	private void seekable(ConcurrentMessageListenerContainer<String, byte[]> instance) {
		Object messageListener = instance.getContainerProperties().getMessageListener();
		if (messageListener instanceof AcknowledgingConsumerAwareMessageListener<?, ?> delegate
				&& !(messageListener instanceof ConsumerSeekAware && messageListener instanceof PartitionSeeker)) {
			instance.getContainerProperties().setMessageListener(
					new SeekableMessageListener((AcknowledgingConsumerAwareMessageListener<String, byte[]>) delegate));
		}
	}

	private CommonErrorHandler errorHandler(String listener) {
		return ReliableErrorHandlers.create(listener, this.settings, this.deadLetterTemplate, this.outcomes);
	}

	private static String listenerId(ConcurrentMessageListenerContainer<String, byte[]> instance,
			KafkaListenerEndpoint endpoint) {
		String id = instance.getListenerId();
		return (id != null) ? id : String.valueOf(endpoint.getId());
	}

	private Map<String, Object> effectiveConsumerConfig(ConcurrentMessageListenerContainer<String, byte[]> instance) {
		Map<String, Object> effective = new HashMap<>(getConsumerFactory().getConfigurationProperties());
		Properties overrides = instance.getContainerProperties().getKafkaConsumerProperties();
		overrides.stringPropertyNames().forEach((name) -> effective.put(name, overrides.getProperty(name)));
		return effective;
	}

	@Override
	public void destroy() throws Exception {
		this.dispatchers.forEach(KeyOrderedDispatcher::close);
		if (this.resources != null) {
			this.resources.close();
		}
	}

	/**
	 * Retries, dead letters and null payloads of reliable listeners.
	 *
	 * @param retry attempts (counting the first) and back-off
	 * @param nonRetryable exception types sent to the dead-letter topic at once
	 * @param deadLetterSuffix appended to a record's topic to name its dead-letter topic
	 * @param nullPayload what to do with a null or empty value
	 * @param maxExceptionMessageBytes the longest exception message a dead letter's header keeps
	 * @param maxStackTraceBytes the longest stack trace a dead letter's header keeps
	 * @param maxDeadLetterBytes the largest dead letter the dead-letter producer sends (its {@code max.request.size});
	 * a larger one goes without its value
	 * @param logPayload whether a dead-lettered record's log line shows the start of its value
	 */
	public record ReliableListenerSettings(RetryBackoff retry, List<Class<? extends Throwable>> nonRetryable,
			String deadLetterSuffix, NullPayload nullPayload, int maxExceptionMessageBytes, int maxStackTraceBytes,
			int maxDeadLetterBytes, boolean logPayload) {
	}

}
