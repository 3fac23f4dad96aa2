package io.github.reliablekafka.idempotency;

/**
 * Runs a Redis write with the thread's interrupt set aside and restored after it: a thread interrupted as its
 * application stops still writes what it owes (Lettuce stops waiting for a reply on an interrupted thread).
 */
final class Uninterrupted {

	private Uninterrupted() {
	}

	static void run(Runnable write) {
		boolean interrupted = Thread.interrupted();
		try {
			write.run();
		}
		finally {
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
		}
	}

}
