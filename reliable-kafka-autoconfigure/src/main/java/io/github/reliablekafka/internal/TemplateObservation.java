package io.github.reliablekafka.internal;

import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.core.KafkaTemplate;

/**
 * Makes each {@code KafkaTemplate} the library creates (the reliable producer's, the outbox relay's, the dead-letter
 * producers', the delay tiers' sender and forwarder) follow Spring Boot's
 * {@code spring.kafka.template.observation-enabled}, with the application's {@code ObservationRegistry}: a record the
 * library sends on the application's behalf is observed like one the application sends itself.
 *
 * @param enabled {@code spring.kafka.template.observation-enabled}
 * @param registry the application's registry, {@code null} when it has none (or several)
 */
public record TemplateObservation(boolean enabled, @Nullable ObservationRegistry registry) {

	/** No observation. */
	public static final TemplateObservation OFF = new TemplateObservation(false, null);

	/**
	 * Apply to a template.
	 * @param template a template the library created
	 * @param <T> the template's type
	 * @return the template
	 */
	public <T extends KafkaTemplate<?, ?>> T applyTo(T template) {
		if (this.enabled) {
			template.setObservationEnabled(true);
			if (this.registry != null) {
				template.setObservationRegistry(this.registry);
			}
		}
		return template;
	}

}
