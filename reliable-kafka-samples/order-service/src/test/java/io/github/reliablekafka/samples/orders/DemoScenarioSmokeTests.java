package io.github.reliablekafka.samples.orders;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo scenario, shortened: the in-JVM broker (bounced), H2, Redis when it answers on localhost:6379.
 */
class DemoScenarioSmokeTests {

	@Test
	void theDemoLosesAndReordersNothingUnderItsFaults() throws Exception {
		PrintStream original = System.out;
		ByteArrayOutputStream captured = new ByteArrayOutputStream();
		int exitCode;
		try (PrintStream tee = new PrintStream(new TeeStream(original, captured), true, StandardCharsets.UTF_8)) {
			System.setOut(tee);
			exitCode = OrderServiceApplication.run("--demo", "--demo.orders=300", "--orders.payment-timeout=15s");
		}
		finally {
			System.setOut(original);
		}
		String output = captured.toString(StandardCharsets.UTF_8);
		assertThat(output).contains("fault: stopping the Kafka broker", "fault: restarting the order-events consumer",
				"PASS");
		assertThat(output).containsPattern("\\n  lost\\s+0\\n")
			.containsPattern("per-key reorders\\s+0\\n")
			.containsPattern("effects applied twice\\s+0\\n")
			.containsPattern("duplicates suppressed\\s+[1-9]")
			.containsPattern("dead-lettered\\s+3\\n");
		assertThat(exitCode).isZero();
	}

	private static final class TeeStream extends java.io.OutputStream {

		private final java.io.OutputStream first;

		private final java.io.OutputStream second;

		TeeStream(java.io.OutputStream first, java.io.OutputStream second) {
			this.first = first;
			this.second = second;
		}

		@Override
		public void write(int b) throws java.io.IOException {
			this.first.write(b);
			this.second.write(b);
		}

		@Override
		public void write(byte[] b, int off, int len) throws java.io.IOException {
			this.first.write(b, off, len);
			this.second.write(b, off, len);
		}

	}

}
