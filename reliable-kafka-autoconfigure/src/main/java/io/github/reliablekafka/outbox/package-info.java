/**
 * The transactional outbox: every send recorded in the application's database in the caller's transaction, and a
 * relay that publishes what was committed, in key order, until Kafka confirms it.
 */
@NullMarked
package io.github.reliablekafka.outbox;

import org.jspecify.annotations.NullMarked;
