package io.github.reliablekafka.samples.orders;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.samples.orders.Events.OrderEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.core.env.Environment;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestClient;

/**
 * The demo ({@code --demo}): places orders through {@code POST /orders} while a simulated payment provider and
 * warehouse send payment and shipping events, and injects faults on the way: a broker bounce (in-JVM broker only), a
 * restart of the event consumer, duplicate events and poison (malformed) events. Unpaid orders are cancelled by
 * their delayed payment deadline. Then it waits for every order to reach its expected state and prints a report:
 * sent, delivered, duplicates suppressed, dead-lettered, per-key reorders, lost. The exit code is 0 only when lost
 * and reorders are 0.
 *
 * <p>
 * Order {@code i}'s plan: every 7th order is never paid (cancelled at its deadline); the others are paid, and two in
 * three of those shipped; every 10th payment and every 20th shipment is sent twice; every 100th order also gets a
 * malformed event.
 */
@Component
class DemoScenario implements ApplicationRunner, ExitCodeGenerator {

	private final OrderStore orders;

	private final EventJournal journal;

	private final ReliableKafkaTemplate kafka;

	private final KafkaListenerEndpointRegistry listeners;

	private final MeterRegistry meters;

	private final Environment environment;

	private final ObjectProvider<DemoBroker> broker;

	private final ObjectProvider<ReliableIdempotency> idempotency;

	private int exitCode;

	DemoScenario(OrderStore orders, EventJournal journal, ReliableKafkaTemplate kafka,
			KafkaListenerEndpointRegistry listeners, MeterRegistry meters, Environment environment,
			ObjectProvider<DemoBroker> broker, ObjectProvider<ReliableIdempotency> idempotency) {
		this.idempotency = idempotency;
		this.orders = orders;
		this.journal = journal;
		this.kafka = kafka;
		this.listeners = listeners;
		this.meters = meters;
		this.environment = environment;
		this.broker = broker;
	}

	@Override
	public void run(ApplicationArguments args) throws Exception {
		if (!args.containsOption("demo")) {
			return;
		}
		int count = Integer.parseInt(this.environment.getProperty("demo.orders", "2000"));
		Duration deadline = this.environment.getProperty("orders.payment-timeout", Duration.class, Duration.ofMinutes(30));
		RestClient http = RestClient.create("http://localhost:" + this.environment.getProperty("local.server.port"));
		ReliableIdempotency idempotency = this.idempotency.getIfAvailable();
		System.out.printf("%nDemo: %,d orders through POST /orders; unpaid orders are cancelled after %d s; idempotency "
				+ "guard: %s.%n", count, deadline.toSeconds(),
				(idempotency != null && idempotency.guard() != null) ? idempotency.guard().store() : "none");
		Map<String, Plan> expected = new ConcurrentHashMap<>();
		AtomicInteger sent = new AtomicInteger();
		AtomicInteger duplicatesSent = new AtomicInteger();
		AtomicInteger poisonSent = new AtomicInteger();
		List<CompletableFuture<?>> faults = new CopyOnWriteArrayList<>();
		ExecutorService clients = Executors.newFixedThreadPool(4);
		List<Future<?>> placements = new ArrayList<>();
		AtomicInteger placed = new AtomicInteger();
		long started = System.nanoTime();
		for (int i = 0; i < count; i++) {
			int n = i;
			placements.add(clients.submit(() -> {
				OrderStore.Order order = http.post()
					.uri("/orders")
					.body(Map.of("customerId", "customer-" + (n % 100), "amount", 100 + n))
					.retrieve()
					.body(OrderStore.Order.class);
				sent.addAndGet(2); // OrderCreated and the payment deadline
				expected.put(order.id(), simulate(order.id(), n, sent, duplicatesSent, poisonSent));
				int done = placed.incrementAndGet();
				if (done % Math.max(1, count / 10) == 0) {
					System.out.printf("  placed %,d of %,d orders%n", done, count);
				}
				if (done == count * 3 / 10) {
					faults.add(CompletableFuture.runAsync(this::bounceBroker));
				}
				if (done == count * 7 / 10) {
					// one fault at a time: the consumer restarts once the broker is back
					faults.add(CompletableFuture.allOf(faults.toArray(CompletableFuture[]::new))
						.thenRunAsync(this::restartConsumer));
				}
			}));
		}
		for (Future<?> placement : placements) {
			placement.get();
		}
		clients.shutdown();
		CompletableFuture.allOf(faults.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
		System.out.printf("  all %,d orders placed in %.1f s; waiting for every order to reach its final state...%n",
				count, (System.nanoTime() - started) / 1e9);
		long waitUntil = System.nanoTime() + deadline.plusSeconds(90).toNanos();
		long lastReport = 0;
		int settled;
		while ((settled = settled(expected)) < expected.size() && System.nanoTime() < waitUntil) {
			if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(3)) {
				System.out.printf("  %,d of %,d orders in their final state%n", settled, expected.size());
				lastReport = System.nanoTime();
			}
			Thread.sleep(250);
		}
		Thread.sleep(1_000); // late duplicates would show up now
		report(expected, count, sent.get(), duplicatesSent.get(), poisonSent.get(), started);
	}

	/**
	 * Send order {@code n}'s payment and shipping events as the payment provider and the warehouse would.
	 * @return what was sent for it
	 */
	private Plan simulate(String orderId, int n, AtomicInteger sent, AtomicInteger duplicates, AtomicInteger poison) {
		if (n % 100 == 50) {
			this.kafka.send(Events.ORDER_EVENTS, orderId, "{\"orderId\": \"" + orderId + "\", \"status\": "); // malformed
			sent.incrementAndGet();
			poison.incrementAndGet();
		}
		if (n % 7 == 0) {
			return new Plan(List.of());
		}
		send(orderId, "PAID", (n % 10 == 1) ? 2 : 1, sent, duplicates);
		if (n % 3 == 0) {
			return new Plan(List.of("PAID"));
		}
		send(orderId, "SHIPPED", (n % 20 == 2) ? 2 : 1, sent, duplicates);
		return new Plan(List.of("PAID", "SHIPPED"));
	}

	private void send(String orderId, String status, int times, AtomicInteger sent, AtomicInteger duplicates) {
		for (int i = 0; i < times; i++) {
			this.kafka.send(Events.ORDER_EVENTS, orderId, new OrderEvent(orderId, status));
			sent.incrementAndGet();
		}
		duplicates.addAndGet(times - 1);
	}

	private void bounceBroker() {
		DemoBroker demoBroker = this.broker.getIfAvailable();
		if (demoBroker == null) {
			System.out.println("  fault: broker bounce skipped (not the in-JVM broker)");
			return;
		}
		try {
			System.out.println("  fault: stopping the Kafka broker; it starts again 3 s after it is down (orders keep being accepted)");
			long start = System.nanoTime();
			demoBroker.bounce(Duration.ofSeconds(3));
			System.out.printf("  fault: broker back, %.1f s after the stop began (its shutdown takes most of that)%n",
					(System.nanoTime() - start) / 1e9);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private void restartConsumer() {
		MessageListenerContainer container = this.listeners.getListenerContainer(OrderListeners.EVENTS_LISTENER);
		System.out.println("  fault: restarting the order-events consumer");
		container.stop();
		try {
			Thread.sleep(1_000);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		container.start();
		System.out.println("  fault: order-events consumer running again");
	}

	private int settled(Map<String, Plan> expected) {
		Map<String, String> statuses = this.orders.statuses();
		int settled = 0;
		for (Map.Entry<String, Plan> order : expected.entrySet()) {
			if (missing(order.getKey(), order.getValue(), statuses) == null) {
				settled++;
			}
		}
		return settled;
	}

	/**
	 * What of an order's messages has not arrived (yet).
	 * @return a description, {@code null} when everything arrived
	 */
	private @Nullable String missing(String orderId, Plan plan, Map<String, String> statuses) {
		if (!this.journal.wasCreated(orderId)) {
			return "OrderCreated";
		}
		List<String> applied = this.journal.appliedTo(orderId);
		for (String event : plan.events()) {
			if (!applied.contains(event)) {
				return event;
			}
		}
		if (plan.events().isEmpty() && !"CANCELLED".equals(statuses.get(orderId))) {
			return "PaymentDeadline";
		}
		return null;
	}

	private void report(Map<String, Plan> expected, int count, int sent, int duplicatesSent, int poisonSent,
			long started) {
		long lost = 0;
		long reorders = 0;
		long appliedTwice = 0;
		long paidAfterDeadline = 0;
		Map<String, String> statuses = this.orders.statuses();
		for (Map.Entry<String, Plan> order : expected.entrySet()) {
			String missing = missing(order.getKey(), order.getValue(), statuses);
			if (missing != null) {
				lost++;
				if (lost <= 5) {
					System.out.printf("  missing: %s of %s (status %s, events applied %s)%n", missing, order.getKey(),
							statuses.get(order.getKey()), this.journal.appliedTo(order.getKey()));
				}
			}
			List<String> applied = this.journal.appliedTo(order.getKey());
			if (applied.indexOf("SHIPPED") >= 0 && applied.indexOf("PAID") > applied.indexOf("SHIPPED")) {
				reorders++;
			}
			if (applied.stream().distinct().count() < applied.size()) {
				appliedTwice++;
			}
			if (!order.getValue().events().isEmpty() && "CANCELLED".equals(statuses.get(order.getKey()))) {
				paidAfterDeadline++;
			}
		}
		long suppressed = (long) this.meters.find("reliable.kafka.idempotency.checks")
			.tag("result", "duplicate")
			.counters()
			.stream()
			.mapToDouble(Counter::count)
			.sum();
		long deadLettered = (long) this.meters.find("reliable.kafka.consumer.records")
			.tag("listener", OrderListeners.EVENTS_LISTENER)
			.tag("result", "dead-lettered")
			.counters()
			.stream()
			.mapToDouble(Counter::count)
			.sum();
		long applied = this.journal.createdCount() + this.journal.appliedCount() + this.journal.deadlineCount();
		System.out.println();
		System.out.println("reliable-kafka order-service demo report");
		System.out.printf("  orders placed              %,7d%n", count);
		System.out.printf("  messages sent              %,7d (OrderCreated and payment deadlines %,d, payment and shipping "
				+ "events %,d of which %,d sent twice on purpose, malformed %,d)%n", sent, 2 * count,
				sent - 2 * count - poisonSent, duplicatesSent, poisonSent);
		System.out.printf("  delivered                  %,7d%n", applied + suppressed + deadLettered);
		System.out.printf("    applied                  %,7d (orders created %,d, events %,d, deadlines %,d)%n", applied,
				this.journal.createdCount(), this.journal.appliedCount(), this.journal.deadlineCount());
		System.out.printf("    duplicates suppressed    %,7d%n", suppressed);
		System.out.printf("    dead-lettered            %,7d%n", deadLettered);
		System.out.printf("  effects applied twice      %,7d%n", appliedTwice);
		System.out.printf("  per-key reorders           %,7d%n", reorders);
		System.out.printf("  lost                       %,7d%n", lost);
		System.out.printf("  unpaid orders cancelled    %,7d (paid after their deadline: %,d)%n",
				this.journal.cancelledCount(), paidAfterDeadline);
		System.out.printf("  final states               %s (in %.1f s)%n", this.orders.countByStatus(),
				(System.nanoTime() - started) / 1e9);
		boolean pass = lost == 0 && reorders == 0 && appliedTwice == 0 && deadLettered == poisonSent;
		this.exitCode = (lost == 0 && reorders == 0) ? 0 : 1;
		System.out.println(pass ? "PASS: nothing lost, nothing reordered, nothing applied twice, every poison event in the DLT"
				: (this.exitCode == 0) ? "PASS (lost 0, reorders 0), with the differences above" : "FAIL");
	}

	/** The events sent for an order (none: it is never paid and must be cancelled at its deadline). */
	record Plan(List<String> events) {
	}

	@Override
	public int getExitCode() {
		return this.exitCode;
	}

}
