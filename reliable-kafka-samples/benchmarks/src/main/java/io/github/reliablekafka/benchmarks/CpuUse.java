package io.github.reliablekafka.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU time spent between two snapshots: by the local PostgreSQL server's processes (from {@code /proc}, Linux only)
 * and by this JVM's threads, grouped by what they do. Threads that ended between the snapshots are not counted.
 */
final class CpuUse {

	private final long postgresNanos;

	private final Map<Long, Long> threadNanos;

	private final Map<Long, String> threadNames;

	private CpuUse(long postgresNanos, Map<Long, Long> threadNanos, Map<Long, String> threadNames) {
		this.postgresNanos = postgresNanos;
		this.threadNanos = threadNanos;
		this.threadNames = threadNames;
	}

	static CpuUse now() {
		ThreadMXBean threads = ManagementFactory.getThreadMXBean();
		Map<Long, Long> nanos = new TreeMap<>();
		Map<Long, String> names = new TreeMap<>();
		for (Thread thread : Thread.getAllStackTraces().keySet()) {
			long cpu = threads.getThreadCpuTime(thread.getId());
			if (cpu >= 0) {
				nanos.put(thread.getId(), cpu);
				names.put(thread.getId(), thread.getName());
			}
		}
		return new CpuUse(postgresNanos(), nanos, names);
	}

	/**
	 * Return the CPU time per unit of work since {@code before}, in microseconds, by group.
	 */
	Map<String, Double> since(CpuUse before, long units) {
		Map<String, Double> groups = new TreeMap<>();
		groups.put("postgres", (this.postgresNanos - before.postgresNanos) / 1e3 / units);
		this.threadNanos.forEach((id, cpu) -> {
			long start = before.threadNanos.getOrDefault(id, 0L);
			groups.merge(group(this.threadNames.get(id)), (cpu - start) / 1e3 / units, Double::sum);
		});
		return groups;
	}

	static String describe(Map<String, Double> groups) {
		StringBuilder text = new StringBuilder();
		groups.forEach((group, micros) -> {
			if (micros >= 0.5) {
				text.append(text.isEmpty() ? "" : ", ").append(group).append(' ').append(Math.round(micros));
			}
		});
		return text.toString();
	}

	private static String group(String name) {
		if (name.startsWith("rk-outbox")) {
			return "relay";
		}
		if (name.startsWith("kafka-producer-network-thread")) {
			return "producer";
		}
		if (name.startsWith("pool-")) {
			return "application";
		}
		return "broker+other";
	}

	private static long postgresNanos() {
		long ticks = 0;
		try (Stream<Path> processes = Files.list(Paths.get("/proc"))) {
			for (Path process : (Iterable<Path>) processes::iterator) {
				if (!process.getFileName().toString().chars().allMatch(Character::isDigit)) {
					continue;
				}
				try {
					String stat = Files.readString(process.resolve("stat"));
					int open = stat.indexOf('(');
					int close = stat.lastIndexOf(')');
					if (open < 0 || close < 0 || !stat.substring(open + 1, close).startsWith("postgres")) {
						continue;
					}
					String[] fields = stat.substring(close + 2).split(" ");
					ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
				}
				catch (IOException | RuntimeException ex) {
					// the process ended, or this is not Linux
				}
			}
		}
		catch (IOException ex) {
			return 0;
		}
		return ticks * 10_000_000L; // USER_HZ = 100
	}

}
