/**
 * The durability doctor: at startup, the no-loss checklist checked against the real cluster and the effective
 * client settings, printed as one table.
 */
@NullMarked
package io.github.reliablekafka.doctor;

import org.jspecify.annotations.NullMarked;
