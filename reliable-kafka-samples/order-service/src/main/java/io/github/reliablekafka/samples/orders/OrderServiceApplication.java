package io.github.reliablekafka.samples.orders;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The order service.
 *
 * <p>
 * Default set-up, for a fresh clone with only a JDK: with no {@code spring.kafka.bootstrap-servers} it starts an
 * in-JVM KRaft broker, uses an in-memory H2 database, and uses Redis only when one answers on
 * {@code localhost:6379} (the idempotency guard is then two-tier, else the database ledger alone). With the
 * {@code real} profile it uses your Kafka, PostgreSQL and Redis ({@code application-real.yml}).
 *
 * <p>
 * {@code --demo} runs the demo scenario and exits with its verdict (0 only when nothing was lost or reordered).
 */
@SpringBootApplication
public class OrderServiceApplication {

	public static void main(String[] args) throws Exception {
		int exitCode = run(args);
		if (Arrays.asList(args).contains("--demo")) {
			System.exit(exitCode);
		}
	}

	/**
	 * Run the service (and with {@code --demo}, the demo) until it ends.
	 * @param args the command line
	 * @return the exit code
	 */
	static int run(String... args) throws Exception {
		List<String> arguments = new ArrayList<>(Arrays.asList(args));
		boolean real = arguments.stream().anyMatch((arg) -> arg.startsWith("--spring.profiles.active") && arg.contains("real"))
				|| String.valueOf(System.getenv("SPRING_PROFILES_ACTIVE")).contains("real");
		DemoBroker broker = null;
		if (!real && !isSet(arguments, "spring.kafka.bootstrap-servers")) {
			System.out.println("No spring.kafka.bootstrap-servers set: starting an in-JVM Kafka broker...");
			broker = DemoBroker.start();
			arguments.add("--spring.kafka.bootstrap-servers=" + broker.bootstrapServers());
		}
		if (!real && !isSet(arguments, "spring.data.redis.host") && !reachable("localhost", 6379)) {
			System.out.println("No Redis on localhost:6379: the idempotency guard uses the database ledger alone.");
			arguments.add("--spring.autoconfigure.exclude="
					+ "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration");
		}
		if (arguments.contains("--demo")) {
			// the demo's defaults: seconds instead of minutes, any free port, quick catch-up after the bounce
			if (!isSet(arguments, "orders.payment-timeout")) {
				arguments.add("--orders.payment-timeout=30s");
			}
			if (!isSet(arguments, "server.port")) {
				arguments.add("--server.port=0");
			}
			if (!isSet(arguments, "reliable.kafka.outbox.retry.max-delay")) {
				arguments.add("--reliable.kafka.outbox.retry.max-delay=2s"); // catch up quickly after the bounce
			}
		}
		SpringApplication application = new SpringApplication(OrderServiceApplication.class);
		DemoBroker demoBroker = broker;
		if (demoBroker != null) {
			application.addInitializers((context) -> context.getBeanFactory().registerSingleton("demoBroker", demoBroker));
		}
		try {
			ConfigurableApplicationContext context = application.run(arguments.toArray(String[]::new));
			if (!arguments.contains("--demo")) {
				return 0; // a service: keeps running until stopped
			}
			return SpringApplication.exit(context);
		}
		finally {
			if (broker != null && arguments.contains("--demo")) {
				broker.close();
			}
		}
	}

	private static boolean isSet(List<String> arguments, String property) {
		String env = property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
		return System.getProperty(property) != null || System.getenv(env) != null
				|| arguments.stream().anyMatch((arg) -> arg.startsWith("--" + property + "="));
	}

	private static boolean reachable(String host, int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(host, port), 300);
			return true;
		}
		catch (Exception ex) {
			return false;
		}
	}

}
