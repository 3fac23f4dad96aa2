/**
 * Auto-configuration of the durability doctor.
 */
@NullMarked
package io.github.reliablekafka.autoconfigure.doctor;

import org.jspecify.annotations.NullMarked;
