/**
 * Idempotency guards: a redelivered message changes nothing twice. A Redis front check, a database unique-key
 * ledger as the final word, or both.
 */
@NullMarked
package io.github.reliablekafka.idempotency;

import org.jspecify.annotations.NullMarked;
