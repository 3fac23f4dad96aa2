package io.github.reliablekafka.consumer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import io.github.reliablekafka.delay.DelayedRedelivery;
import io.github.reliablekafka.dispatch.DispatchObserver;
import io.github.reliablekafka.dispatch.DispatchSettings;
import io.github.reliablekafka.dispatch.KeyOrderedDispatcher;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.internal.RetryBackoff;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerEndpoint;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.CompositeRecordInterceptor;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ConsumerAwareRebalanceListener;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.ContainerProperties.AckMode;
import org.springframework.kafka.listener.ContainerProperties.AssignmentCommitOption;
import org.springframework.kafka.listener.RecordInterceptor;

/**
 * The container factory behind {@link ReliableListener}. Its consumers read {@code String} keys and {@code byte[]}
 * values with auto-commit off, and each container it creates gets an error handler (retries with back-off, then the
 * dead-letter topic) and a record interceptor (null payloads, outcome counts) that know the listener's id. The
 * endpoint is read once ({@link ReliableEndpoint}) and its listener chain built once ({@link ListenerChain}).
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

	private DeadLetterRecords deadLetterRecords = DeadLetterRecords.NONE;

	private PayloadCodec codec = PayloadCodec.fastjson2();

	private DispatchSettings dispatchDefaults = new DispatchSettings(Ordering.KEY, 16, 256, 1000, 64L << 20,
			Duration.ofSeconds(10), false, Duration.ofSeconds(30));

	private DispatchObserver dispatchObserver = DispatchObserver.NONE;

	private @Nullable DelayedRedelivery redelivery;

	private @Nullable ObservationRegistry laneObservations;

	private final ReliableListeners listeners;

	/**
	 * Create a factory; set its consumer factory before use.
	 * @param settings retries, dead letters and null payloads
	 * @param deadLetterTemplate publishes dead letters
	 * @param outcomes counts outcomes
	 * @param applicationInterceptor the application's own record interceptor, called first; may be {@code null}
	 * @param resources closed with the factory (the dead-letter producer); may be {@code null}
	 * @param listeners where the listeners this factory creates are registered
	 */
	public ReliableKafkaListenerContainerFactory(ReliableListenerSettings settings,
			KafkaOperations<String, byte[]> deadLetterTemplate, ListenerOutcomes outcomes,
			@Nullable RecordInterceptor<String, byte[]> applicationInterceptor, @Nullable AutoCloseable resources,
			ReliableListeners listeners) {
		this.settings = settings;
		this.listeners = listeners;
		this.deadLetterTemplate = deadLetterTemplate;
		this.outcomes = outcomes;
		this.applicationInterceptor = applicationInterceptor;
		this.resources = resources;
	}

	/**
	 * Read payloads with the codec: the method's parameter type decides what each payload is read as.
	 * @param codec the application's payload codec
	 */
	public void setPayloadCodec(PayloadCodec codec) {
		setRecordMessageConverter(new PayloadMessageConverter(codec, this.settings.nullPayload()));
	}

	/**
	 * Run every listener inside an idempotency guard.
	 * @param idempotency the guard and key strategy; a {@code null} guard means none
	 * @param codec reads payloads for key expressions
	 */
	public void setIdempotency(ReliableIdempotency idempotency, PayloadCodec codec) {
		this.idempotency = idempotency;
		this.codec = codec;
		this.deadLetterRecords = new DeadLetterRecords(idempotency.guard());
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
	 * Run each record that a lane of a listener with {@link Ordering#KEY} or {@link Ordering#NONE} handles inside a
	 * lane observation ({@code reliable.kafka.lane}), a child of the container's listener
	 * observation the record carries, when it carries one: that observation stops when the record is handed to its
	 * lane, so the lane's own covers the listener's work and is what the listener sees as current.
	 * @param observations the application's registry
	 */
	public void setObservationRegistry(ObservationRegistry observations) {
		this.laneObservations = observations;
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
		return this.listeners.dispatchers();
	}

	@Override
	@SuppressWarnings("unchecked")
	protected void initializeContainer(ConcurrentMessageListenerContainer<String, byte[]> instance,
			KafkaListenerEndpoint endpoint) {
		super.initializeContainer(instance, endpoint);
		ReliableEndpoint reliable = ReliableEndpoint.read(instance, endpoint, isBatchListener());
		String listener = reliable.id();
		if (reliable.group() == GroupType.SHARE) {
			throw new ReliableKafkaConfigurationException("Reliable listener '" + listener + "' has group = SHARE but "
					+ "reached the consumer-group container factory.", "Leave containerFactory unset on "
							+ "@ReliableListener: its factory, " + ReliableListener.ROUTER + ", passes share-group "
							+ "listeners to " + ReliableListener.SHARE_CONTAINER_FACTORY + ".");
		}
		if (reliable.method() != null) {
			ListenerMethodCheck.check(reliable.method(), reliable.batch(), reliable.idempotencyKey());
		}
		ConsumerConfigCheck.check(listener, effectiveConsumerConfig(instance), this.settings.retry().totalDelay());
		instance.setCommonErrorHandler(errorHandler(listener, instance.getGroupId()));
		String[] listened = instance.getContainerProperties().getTopics();
		if (listened != null) {
			this.listeners.listens(List.of(listened));
		}
		RecordInterceptor<String, byte[]> interceptor = new ReliableRecordInterceptor(listener,
				this.settings.nullPayload(), this.outcomes);
		RecordInterceptor<String, byte[]> interceptors = (this.applicationInterceptor != null)
				? new CompositeRecordInterceptor<>(this.applicationInterceptor, interceptor) : interceptor;
		DispatchSettings dispatch = dispatchSettings(reliable);
		ContainerProperties properties = instance.getContainerProperties();
		if (!(properties.getMessageListener() instanceof AcknowledgingConsumerAwareMessageListener<?, ?> application)) {
			if (dispatch != null) {
				throw new IllegalStateException("Reliable listener '" + listener + "' with ordering="
						+ dispatch.ordering() + " must be a record listener, not a batch listener");
			}
			instance.setRecordInterceptor(interceptors); // a batch listener: no chain
			return;
		}
		ListenerChain builder = new ListenerChain(this.idempotency, this.codec, this.listeners, this.redelivery);
		// the guard's last write of a record may wait for the next record only if nothing of the application's runs
		// between them on the thread that runs them (the consumer thread, or a lane worker)
		boolean deferring = this.applicationInterceptor == null;
		AcknowledgingConsumerAwareMessageListener<String, byte[]> chain = builder.build(
				(AcknowledgingConsumerAwareMessageListener<String, byte[]>) application, reliable, instance.getGroupId(),
				(listened != null) ? List.of(listened) : List.of(), dispatch == null, deferring);
		if (dispatch != null) {
			dispatch(instance, listener, dispatch, chain, interceptors, builder.endingBatches());
		}
		else {
			instance.setRecordInterceptor(deferring ? builder.endingPolls(interceptors) : interceptors);
			properties.setMessageListener(ListenerChain.seekable(chain));
		}
	}

	/**
	 * The dispatch settings of a listener with {@link Ordering#KEY} or {@link Ordering#NONE}; {@code null} for
	 * {@link Ordering#PARTITION}.
	 */
	private @Nullable DispatchSettings dispatchSettings(ReliableEndpoint endpoint) {
		if (endpoint.ordering() == Ordering.PARTITION) {
			return null;
		}
		if (endpoint.workers() == 0 || endpoint.workers() < -1) {
			throw new ReliableKafkaConfigurationException("Reliable listener '" + endpoint.id() + "' has workers="
					+ endpoint.workers() + ".", "Give at least 1 worker per partition, or -1 for "
							+ "reliable.kafka.consumer.dispatch.workers.");
		}
		int workers = (endpoint.workers() > 0) ? endpoint.workers() : this.dispatchDefaults.workers();
		return this.dispatchDefaults.with(endpoint.ordering(), workers);
	}

	/**
	 * Make the container dispatch its records to key-ordered lanes: the dispatcher is its message listener (in
	 * {@code MANUAL} acknowledgement mode) and its rebalance listener; retries, dead letters and the interceptors run
	 * on the lanes.
	 */
	private void dispatch(ConcurrentMessageListenerContainer<String, byte[]> instance, String listener,
			DispatchSettings dispatch, AcknowledgingConsumerAwareMessageListener<String, byte[]> chain,
			RecordInterceptor<String, byte[]> interceptors, Runnable batchDone) {
		ContainerProperties properties = instance.getContainerProperties();
		RetryDecision decision = new RetryDecision(this.settings);
		ReliableErrorHandlers.Outcomes failures = new ReliableErrorHandlers.Outcomes(listener, this.settings, decision,
				this.outcomes);
		DispatchedRecordHandler handler = new DispatchedRecordHandler(chain, interceptors, decision,
				ReliableErrorHandlers.recoverer(this.settings, this.deadLetterTemplate, instance.getGroupId(),
						this.deadLetterRecords),
				failures, listener, this.laneObservations, batchDone);
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
		KeyOrderedDispatcher dispatcher = new KeyOrderedDispatcher(listener, dispatch, handler, this.dispatchObserver,
				existing);
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
		this.listeners.dispatches(dispatcher);
		logger.info("Reliable listener '{}' dispatches each partition's records to {} workers over {} lanes (ordering {}, "
				+ "at most {} threads, {} records in flight per partition)", listener, dispatch.workers(),
				dispatch.lanes(), dispatch.ordering(), dispatch.maxThreads(), dispatch.maxInFlightPerPartition());
	}

	private CommonErrorHandler errorHandler(String listener, @Nullable String group) {
		return ReliableErrorHandlers.create(listener, this.settings, this.deadLetterTemplate, this.outcomes, group,
				this.deadLetterRecords);
	}

	private Map<String, Object> effectiveConsumerConfig(ConcurrentMessageListenerContainer<String, byte[]> instance) {
		Map<String, Object> effective = new HashMap<>(getConsumerFactory().getConfigurationProperties());
		Properties overrides = instance.getContainerProperties().getKafkaConsumerProperties();
		overrides.stringPropertyNames().forEach((name) -> effective.put(name, overrides.getProperty(name)));
		return effective;
	}

	@Override
	public void destroy() throws Exception {
		this.deadLetterRecords.close();
		this.listeners.dispatchers().forEach(KeyOrderedDispatcher::close);
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
