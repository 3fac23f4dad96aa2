/**
 * Auto-configuration of the transactional outbox.
 */
@NullMarked
package io.github.reliablekafka.autoconfigure.outbox;

import org.jspecify.annotations.NullMarked;
