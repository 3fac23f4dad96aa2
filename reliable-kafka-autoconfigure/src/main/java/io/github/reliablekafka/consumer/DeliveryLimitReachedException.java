package io.github.reliablekafka.consumer;

/**
 * The reason a share-group record was dead-lettered without running its listener: it was delivered for the last time
 * the broker allows ({@code group.share.delivery.count.limit}), after its earlier deliveries ended without an
 * acknowledgement (a consumer that crashed or stopped, a lock that ran out). Its dead letter names this type in
 * {@code kafka_dlt-exception-fqcn} and carries the delivery count in {@code rk-delivery-count}.
 */
public class DeliveryLimitReachedException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	/**
	 * Create the exception.
	 * @param message what happened
	 */
	public DeliveryLimitReachedException(String message) {
		super(message);
	}

}
