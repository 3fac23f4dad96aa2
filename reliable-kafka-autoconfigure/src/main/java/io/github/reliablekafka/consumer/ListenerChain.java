package io.github.reliablekafka.consumer;

import java.util.List;
import java.util.function.BooleanSupplier;

import io.github.reliablekafka.delay.DelayedRedelivery;
import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyKeyResolver;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.support.PayloadCodec;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.CompositeRecordInterceptor;
import org.springframework.kafka.listener.RecordInterceptor;

/**
 * Builds the chain of one reliable record listener, once per endpoint, innermost first: the application's listener;
 * the idempotency guard around it (when there is a guard), keyed per the endpoint's {@code idempotencyKey} and scoped
 * to its consumer group; the retry-later handling around that (when the delay tiers are on), so that a record sent to
 * the tiers has rolled back its guarded transaction first. The container then runs the chain from the key-ordered
 * dispatcher's lanes ({@code KEY}, {@code NONE}) or from its consumer thread behind {@link #seekable} ({@code PARTITION}).
 */
final class ListenerChain {

	private final @Nullable ReliableIdempotency idempotency;

	private final PayloadCodec codec;

	private final ReliableListeners listeners;

	private final @Nullable DelayedRedelivery redelivery;

	/** The poll end of the chain built last with {@code deferring} for the consumer thread, or {@code null}. */
	private @Nullable PollEnd pollEnd;

	ListenerChain(@Nullable ReliableIdempotency idempotency, PayloadCodec codec, ReliableListeners listeners,
			@Nullable DelayedRedelivery redelivery) {
		this.idempotency = idempotency;
		this.codec = codec;
		this.listeners = listeners;
		this.redelivery = redelivery;
	}

	/**
	 * Build the chain around an application's record listener.
	 * @param application the application's listener
	 * @param endpoint the endpoint, as read once
	 * @param group the listener's consumer group, {@code null} when it has none
	 * @param topics the topics it reads (empty when it subscribes by pattern)
	 * @param consumerThread whether the chain runs on a consumer group's consumer thread, each partition's records
	 * one after the other (see {@link PartitionFlow})
	 * @param deferring whether the guard may leave a record's last write for the thread's next call: on the
	 * consumer thread see {@link #endingPolls}, to be given to the chain's container; on lanes see
	 * {@link #endingBatches}, to be called by the lane workers. Only when nothing of the application's runs between
	 * one record's listener and the next (no application record interceptor, whose {@code success} and
	 * {@code afterRecord} run there)
	 * @return the chain's outermost listener
	 */
	AcknowledgingConsumerAwareMessageListener<String, byte[]> build(
			AcknowledgingConsumerAwareMessageListener<String, byte[]> application, ReliableEndpoint endpoint,
			@Nullable String group, List<String> topics, boolean consumerThread, boolean deferring) {
		AcknowledgingConsumerAwareMessageListener<String, byte[]> chain = application;
		IdempotencyGuard guard = (this.idempotency != null) ? this.idempotency.guard() : null;
		this.pollEnd = null;
		if (guard != null) {
			if (group == null) {
				throw new IllegalStateException("Reliable listener '" + endpoint.id() + "' has no consumer group: the "
						+ "idempotency guard scopes keys by group. Set groupId or spring.kafka.consumer.group-id.");
			}
			IdempotencyKeyResolver keys = new IdempotencyKeyResolver(this.idempotency.keyStrategy(),
					endpoint.idempotencyKey(),
					(endpoint.method() != null) ? ListenerMethods.payloadType(endpoint.method()) : null, this.codec);
			// on the consumer thread a partition's records run one after the other: those that follow a new one
			// need no claim; on lanes several run at once, and a share group's broker counts deliveries itself
			PollEnd polls = (consumerThread && deferring) ? new PollEnd(guard) : null;
			this.pollEnd = polls;
			// a lane worker runs the chain only between two ends of its batches: it may always defer
			BooleanSupplier deferral = (polls != null) ? polls::armed
					: (deferring && !consumerThread) ? () -> true : null;
			chain = new GuardedMessageListener(chain, guard, keys, group, endpoint.id(), this.listeners.guardBypass(),
					consumerThread ? new PartitionFlow() : null, deferral);
			this.listeners.guards(group, topics, keys.strategy());
		}
		if (this.redelivery != null) {
			chain = new RetryLaterMessageListener(chain, this.redelivery, endpoint.id());
		}
		return chain;
	}

	/**
	 * The record interceptors of the container that runs the chain built last: the given ones, and, when it was built
	 * with an idempotency guard, {@code consumerThread} and {@code deferring}, its {@link PollEnd}, which writes what
	 * the guard left for later on the consumer thread when the poll's records are done with.
	 * @param interceptors the container's record interceptors
	 * @return the interceptors to give the container
	 */
	RecordInterceptor<String, byte[]> endingPolls(RecordInterceptor<String, byte[]> interceptors) {
		return (this.pollEnd != null) ? new CompositeRecordInterceptor<>(interceptors, this.pollEnd) : interceptors;
	}

	/**
	 * What a lane worker runs after the records of each batch, on the thread that ran them and before they are
	 * accounted for (and so before their offsets can be committed): the writes the idempotency guard left for later on
	 * that thread, if any.
	 * @return the end of a batch
	 */
	Runnable endingBatches() {
		IdempotencyGuard guard = (this.idempotency != null) ? this.idempotency.guard() : null;
		return (guard != null) ? guard::flushDeferred : () -> {
		};
	}

	/**
	 * Make a chain run from the consumer thread seek-aware: replay in place, and an application's own
	 * {@code ConsumerSeekAware} listener keeps its callbacks under the library's wrappers.
	 * @param chain the chain
	 * @return the container's listener
	 */
	static AcknowledgingConsumerAwareMessageListener<String, byte[]> seekable(
			AcknowledgingConsumerAwareMessageListener<String, byte[]> chain) {
		return new SeekableMessageListener(chain);
	}

}
