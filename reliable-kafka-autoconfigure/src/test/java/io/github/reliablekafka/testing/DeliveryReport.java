package io.github.reliablekafka.testing;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Counts what a guarantee test asserts on: of the messages a test knows were acknowledged (or committed, or
 * processed), how many are missing from what was read back (lost), how many message ids were read more than once
 * (duplicates), and how many records of a key came after a record of the same key that was sent later (reorders).
 *
 * @param expected how many messages had to arrive
 * @param received how many records were read
 * @param lost expected messages never read
 * @param duplicates extra copies of a message id beyond the first
 * @param reorders records read after a later-sent record of their key
 */
public record DeliveryReport(long expected, long received, long lost, long duplicates, long reorders) {

	/**
	 * Check records read from a topic against the ids that had to arrive.
	 * @param expectedIds the {@code rk-id}s that must be on the topic
	 * @param records the records read, in partition and offset order
	 * @param sequenceOf the send sequence of a record within its key, for the order check
	 * @return the report
	 */
	public static DeliveryReport of(Collection<String> expectedIds, List<ConsumerRecord<String, byte[]>> records,
			Function<ConsumerRecord<String, byte[]>, Long> sequenceOf) {
		return of(expectedIds, records, (record) -> RkHeaders.id(record.headers()), ConsumerRecord::key, sequenceOf);
	}

	/**
	 * Check a sequence of deliveries against the ids that had to arrive.
	 * @param <T> the delivery type
	 * @param expectedIds the ids that must be delivered
	 * @param deliveries the deliveries, in the order they happened per key
	 * @param idOf the message id of a delivery
	 * @param keyOf the key of a delivery
	 * @param sequenceOf the send sequence of a delivery within its key
	 * @return the report
	 */
	public static <T> DeliveryReport of(Collection<String> expectedIds, List<T> deliveries, Function<T, String> idOf,
			Function<T, String> keyOf, Function<T, Long> sequenceOf) {
		Set<String> seen = new HashSet<>();
		long duplicates = 0;
		long reorders = 0;
		Map<String, Long> highestPerKey = new HashMap<>();
		for (T delivery : deliveries) {
			if (!seen.add(idOf.apply(delivery))) {
				duplicates++;
				continue; // a redelivered copy is a duplicate, not a reorder
			}
			long sequence = sequenceOf.apply(delivery);
			Long highest = highestPerKey.get(keyOf.apply(delivery));
			if (highest != null && sequence < highest) {
				reorders++;
			}
			else {
				highestPerKey.put(keyOf.apply(delivery), sequence);
			}
		}
		long lost = expectedIds.stream().filter((id) -> !seen.contains(id)).count();
		return new DeliveryReport(expectedIds.size(), deliveries.size(), lost, duplicates, reorders);
	}

	/**
	 * Print the counts with a label, for the test log.
	 * @param label what was measured
	 * @return this report
	 */
	public DeliveryReport print(String label) {
		System.out.printf("%s: expected=%d received=%d lost=%d duplicates=%d reorders=%d%n", label, this.expected,
				this.received, this.lost, this.duplicates, this.reorders);
		return this;
	}

}
