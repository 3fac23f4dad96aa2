package io.github.reliablekafka.outbox;

import java.util.function.BooleanSupplier;

import io.github.reliablekafka.outbox.RelayEvents.Committed;
import io.github.reliablekafka.outbox.RelayEvents.Scheduled;
import io.github.reliablekafka.outbox.RelayEvents.Wake;
import io.github.reliablekafka.producer.SendFuture;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The outbox template's only way into the relay, from the application's threads: sends in (a send's future, its
 * commit or its end without one, a delayed row's due time), outcomes out (the futures complete when Kafka confirms
 * the row, whoever publishes it). Thread-safe; it touches the relay only through its event queue.
 */
final class RelayPort {

	private final String owner;

	private final RelayQueue events;

	private final LocalSends localSends;

	private final OutboxRelaySettings settings;

	private final BooleanSupplier running;

	RelayPort(String owner, RelayQueue events, LocalSends localSends, OutboxRelaySettings settings,
			BooleanSupplier running) {
		this.owner = owner;
		this.events = events;
		this.localSends = localSends;
		this.settings = settings;
		this.running = running;
	}

	/** Return the relay's owner token, written into the rows it leases. */
	String owner() {
		return this.owner;
	}

	/** Track a send until Kafka confirms it, the transaction ends without it, or the confirmation time-out. */
	SendFuture track(String messageId, ProducerRecord<String, byte[]> record) {
		return this.localSends.track(messageId, record);
	}

	/** A message this instance sent will not be published by it: its transaction did not commit it. */
	void notPublished(String messageId, RuntimeException failure) {
		this.localSends.fail(messageId, failure);
	}

	/**
	 * Return until when a row written now is leased to this instance's writer token, or 0 when rows are written
	 * without a lease (relay mode, or the relay is not running). In immediate mode the instance that writes a row
	 * publishes it right after the commit: leased from the start, the row needs no claim, and no other instance takes
	 * it (unless this one dies: then it is taken once the lease has run out).
	 */
	long writerLeaseUntil() {
		if (this.settings.publishMode() != PublishMode.IMMEDIATE || !this.running.getAsBoolean()) {
			return 0;
		}
		return System.currentTimeMillis() + this.settings.lease().toMillis();
	}

	/**
	 * A row this instance committed: publish it now when it was written under this instance's writer lease
	 * ({@code leaseUntil > 0}), else leave it to the polls.
	 */
	void committed(String messageId, long leaseUntil) {
		this.localSends.committed(messageId, System.currentTimeMillis(), this.settings.confirmTimeout().toMillis());
		if (leaseUntil > 0) {
			this.events.lazy(new Committed(messageId, leaseUntil)); // joins the next admission's window anyway
		}
	}

	/** A delayed row was committed: look for due rows no later than its due time. */
	void scheduled(long dueAt) {
		this.events.urgent(new Scheduled(dueAt));
	}

	/** Look for due rows now rather than at the next poll. */
	void wake() {
		this.events.urgent(Wake.INSTANCE);
	}

}
