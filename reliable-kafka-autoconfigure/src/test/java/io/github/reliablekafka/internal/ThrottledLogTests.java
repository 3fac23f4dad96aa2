package io.github.reliablekafka.internal;

import java.net.ConnectException;
import java.time.Duration;
import java.util.List;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

class ThrottledLogTests {

	private final Logger logger = (Logger) LoggerFactory.getLogger(ThrottledLogTests.class);

	private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

	ThrottledLogTests() {
		this.appender.start();
		this.logger.addAppender(this.appender);
		this.logger.setLevel(Level.INFO);
	}

	@AfterEach
	void detach() {
		this.logger.detachAppender(this.appender);
	}

	@Test
	void aRepeatedCauseIsLoggedOncePerIntervalWithACountAndTheRecoveryOnce() throws Exception {
		ThrottledLog log = new ThrottledLog(this.logger, "Lag not measured", Duration.ofMillis(300));
		for (int i = 0; i < 1_000; i++) {
			// the numbers in a message differ from one occurrence to the next: still one cause
			log.failed(new IllegalStateException("wrapped", new ConnectException("refused after " + i + " ms")),
					"next try in 1 s");
		}
		log.failed(new IllegalArgumentException("another cause"), "");
		assertThat(messages()).containsExactly(
				"Lag not measured: ConnectException: refused after 0 ms; next try in 1 s",
				"Lag not measured: IllegalArgumentException: another cause");
		Thread.sleep(350);
		log.failed(new ConnectException("refused after 7 ms"), "next try in 1 s");
		assertThat(messages()).hasSize(3);
		assertThat(messages().get(2)).startsWith("Lag not measured (1000 more times in the last ")
			.endsWith("s): ConnectException: refused after 7 ms; next try in 1 s");
		assertThat(log.failing()).isTrue();
		log.succeeded("Lag measured again");
		log.succeeded("Lag measured again");
		assertThat(messages()).hasSize(4).last().isEqualTo("Lag measured again after 1002 failures");
		assertThat(log.failing()).isFalse();
	}

	private List<String> messages() {
		return this.appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
	}

}
