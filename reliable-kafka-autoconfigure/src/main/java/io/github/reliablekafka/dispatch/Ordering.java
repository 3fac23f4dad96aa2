package io.github.reliablekafka.dispatch;

/**
 * How a reliable listener processes the records of one partition.
 */
public enum Ordering {

	/**
	 * One record at a time per partition, on the consumer thread: spring-kafka's own behaviour, and the default.
	 */
	PARTITION,

	/**
	 * Records hashed by key onto the partition's worker lanes: the same key in order on one lane, different keys in
	 * parallel. Records without a key are spread over the lanes.
	 */
	KEY,

	/**
	 * Records spread over the partition's worker lanes with no order at all.
	 */
	NONE

}
