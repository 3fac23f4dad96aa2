package io.github.reliablekafka.outbox;

/**
 * Who publishes a committed outbox row.
 */
public enum PublishMode {

	/**
	 * The instance that committed the row publishes it right after the commit; the relay publishes whatever that
	 * did not confirm (a crash, a broker outage).
	 */
	IMMEDIATE,

	/**
	 * Only relays publish, from their polls; any instance's relay may publish any row.
	 */
	RELAY

}
