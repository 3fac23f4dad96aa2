/**
 * The reliable consumer: {@link io.github.reliablekafka.consumer.ReliableListener}, a container factory that commits
 * only after the work succeeded, bounded retries with back-off, a dead-letter topic, and poison input that never
 * blocks a partition.
 */
@NullMarked
package io.github.reliablekafka.consumer;

import org.jspecify.annotations.NullMarked;
