package io.github.reliablekafka.consumer;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

import io.github.reliablekafka.internal.PartitionSeeker;
import io.github.reliablekafka.internal.SeekCallbacks;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.ConsumerSeekAware;
import org.springframework.kafka.listener.DelegatingMessageListener;
import org.springframework.kafka.support.Acknowledgment;

/**
 * The outermost listener of a reliable listener's container (without key-ordered dispatch): it keeps each assigned
 * partition's seek callback so that {@link PartitionSeeker#seek} can replay in place, and passes every
 * {@link ConsumerSeekAware} call on to the listener inside, so that an application's own seek-aware listener keeps
 * working under the library's wrappers.
 */
final class SeekableMessageListener implements AcknowledgingConsumerAwareMessageListener<String, byte[]>,
		DelegatingMessageListener<AcknowledgingConsumerAwareMessageListener<String, byte[]>>, ConsumerSeekAware,
		PartitionSeeker {

	private final AcknowledgingConsumerAwareMessageListener<String, byte[]> delegate;

	private final SeekCallbacks callbacks = new SeekCallbacks();

	SeekableMessageListener(AcknowledgingConsumerAwareMessageListener<String, byte[]> delegate) {
		this.delegate = delegate;
	}

	@Override
	public void onMessage(ConsumerRecord<String, byte[]> record, @Nullable Acknowledgment acknowledgment,
			@Nullable Consumer<?, ?> consumer) {
		this.delegate.onMessage(record, acknowledgment, consumer);
	}

	@Override
	public AcknowledgingConsumerAwareMessageListener<String, byte[]> getDelegate() {
		return this.delegate;
	}

	@Override
	public Set<TopicPartition> assignedPartitions() {
		return this.callbacks.partitions();
	}

	@Override
	public void seek(TopicPartition partition, long offset, Duration timeout) {
		ConsumerSeekCallback callback = this.callbacks.of(partition);
		if (callback == null) {
			throw new IllegalStateException("Partition " + partition + " is not assigned to this instance");
		}
		callback.seek(partition.topic(), partition.partition(), offset);
	}

	@Override
	public void registerSeekCallback(ConsumerSeekCallback callback) {
		this.callbacks.register(callback);
		if (this.delegate instanceof ConsumerSeekAware aware) {
			aware.registerSeekCallback(callback);
		}
	}

	@Override
	public void onPartitionsAssigned(Map<TopicPartition, Long> assignments, ConsumerSeekCallback callback) {
		this.callbacks.assigned(assignments.keySet());
		if (this.delegate instanceof ConsumerSeekAware aware) {
			aware.onPartitionsAssigned(assignments, callback);
		}
	}

	@Override
	public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
		this.callbacks.revoked(partitions);
		if (this.delegate instanceof ConsumerSeekAware aware) {
			aware.onPartitionsRevoked(partitions);
		}
	}

	@Override
	public void onIdleContainer(Map<TopicPartition, Long> assignments, ConsumerSeekCallback callback) {
		if (this.delegate instanceof ConsumerSeekAware aware) {
			aware.onIdleContainer(assignments, callback);
		}
	}

	@Override
	public void onFirstPoll() {
		if (this.delegate instanceof ConsumerSeekAware aware) {
			aware.onFirstPoll();
		}
	}

	@Override
	public void unregisterSeekCallback() {
		this.callbacks.unregister();
		if (this.delegate instanceof ConsumerSeekAware aware) {
			aware.unregisterSeekCallback();
		}
	}

}
