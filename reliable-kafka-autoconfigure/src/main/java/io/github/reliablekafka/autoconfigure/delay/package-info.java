/**
 * Auto-configuration of delayed delivery through tier topics.
 */
@NullMarked
package io.github.reliablekafka.autoconfigure.delay;

import org.jspecify.annotations.NullMarked;
