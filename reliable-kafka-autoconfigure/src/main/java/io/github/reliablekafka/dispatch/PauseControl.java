package io.github.reliablekafka.dispatch;

import java.util.List;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * Makes the containers' pause requests for a partition match what its dispatch state wants. The consumer thread
 * pauses and the workers resume; each caller applies the latest wish under the partition's pause lock, so that a pause
 * and a resume racing each other cannot leave a partition paused that nobody will resume. The child containers are
 * called directly: their pause and resume requests do not block (the concurrent container's would take its
 * lifecycle lock).
 */
final class PauseControl {

	private static final Logger logger = LoggerFactory.getLogger(PauseControl.class);

	private final String listener;

	private volatile @Nullable MessageListenerContainer container;

	private volatile List<? extends MessageListenerContainer> children = List.of();

	PauseControl(String listener) {
		this.listener = listener;
	}

	void bind(MessageListenerContainer container) {
		this.container = container;
	}

	/** Apply a partition's {@code paused} flag to the containers that own its consumer. */
	void apply(PartitionLanes state) {
		if (this.children.isEmpty()) {
			refreshChildren(); // partitions assigned without a rebalance callback
		}
		state.applyPauseWish((paused) -> {
			for (MessageListenerContainer child : this.children) {
				if (paused) {
					if (child.getAssignedPartitions() != null && child.getAssignedPartitions().contains(state.partition)
							&& !child.isPartitionPauseRequested(state.partition)) {
						logger.debug("Listener '{}' pauses {}: too many records in flight", this.listener,
								state.partition);
						child.pausePartition(state.partition);
					}
				}
				else if (child.isPartitionPauseRequested(state.partition)) {
					logger.debug("Listener '{}' resumes {}", this.listener, state.partition);
					child.resumePartition(state.partition);
				}
			}
		});
	}

	/** Find the containers that own consumers: the children of a concurrent container, else the container itself. */
	void refreshChildren() {
		MessageListenerContainer bound = this.container;
		if (bound instanceof ConcurrentMessageListenerContainer<?, ?> concurrent) {
			this.children = List.copyOf(concurrent.getContainers());
		}
		else if (bound != null) {
			this.children = List.of(bound);
		}
	}

}
