/**
 * The reliable producer: {@link io.github.reliablekafka.producer.ReliableKafkaTemplate}, safe producer defaults,
 * retries with back-off beyond the Kafka client's own, back-pressure and one callback for every outcome.
 */
@NullMarked
package io.github.reliablekafka.producer;

import org.jspecify.annotations.NullMarked;
