package io.github.reliablekafka.autoconfigure;

import io.github.reliablekafka.support.ReliableKafkaConfigurationException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns the library's startup refusals into Spring Boot's failure report: what is wrong (Description) and what to
 * change (Action), instead of a stack trace.
 */
final class ReliableKafkaFailureAnalyzer extends AbstractFailureAnalyzer<ReliableKafkaConfigurationException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, ReliableKafkaConfigurationException cause) {
		return new FailureAnalysis(cause.getDescription(), cause.getAction(), cause);
	}

}
