package io.github.reliablekafka.idempotency;

import java.util.List;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The database ledger as the guard: in one transaction, the key is marked done first (a unique key: a concurrent
 * duplicate waits for this transaction and then finds the key done, without running the work) and the work runs;
 * both commit or roll back together. A key already done rolls back and is a duplicate. Unless another store counts
 * them, claims are counted in the ledger, committed before the work, so that a record that kills its consumer is
 * noticed across restarts. When the ledger cannot answer (the database is unreachable, a lock wait timed out, the
 * commit's outcome is unknown) the guard throws {@link GuardUnavailableException}: the record is retried, never
 * committed past.
 */
final class JdbcIdempotencyGuard implements IdempotencyGuard {

	private static final Logger logger = LoggerFactory.getLogger(IdempotencyGuard.class);

	private final ConsumedLedger ledger;

	private final TransactionTemplate transactions;

	private final int maxClaims;

	private final GuardListener listener;

	/** Keys over the claim limit, waiting to be told a crash loop or a race. */
	private final CrashLoopSuspects suspects = new CrashLoopSuspects();

	JdbcIdempotencyGuard(ConsumedLedger ledger, TransactionTemplate transactions, int maxClaims, GuardListener listener) {
		this.ledger = ledger;
		this.transactions = transactions;
		this.maxClaims = maxClaims;
		this.listener = listener;
	}

	@Override
	public Outcome execute(String group, String key, Work work) throws Exception {
		int claims = ledgerCall(() -> this.ledger.claim(group, key), group, key);
		if (claims < 0) {
			this.listener.checked(store(), "duplicate");
			return Outcome.DUPLICATE;
		}
		Outcome outcome;
		try {
			outcome = inTransaction(this.transactions, group, key, () -> this.ledger.markDone(group, key, true), claims,
					this.maxClaims, this.suspects, work);
		}
		catch (CrashLoopException ex) {
			throw ex;
		}
		catch (Exception | Error ex) {
			try {
				this.ledger.unclaim(group, key);
			}
			catch (RuntimeException unclaimFailed) {
				logger.debug("Could not take back the claim of idempotency key {} of group {}: {}", key, group,
						unclaimFailed.getMessage());
			}
			throw ex;
		}
		this.listener.checked(store(), (outcome == Outcome.PROCESSED) ? "new" : "duplicate");
		return outcome;
	}

	/**
	 * One transaction, no claim: the ledger row is written as {@code DONE} with the work (one statement for a new
	 * key), and the work runs.
	 */
	@Override
	public Outcome executeInFlow(String group, String key, Work work) throws Exception {
		Outcome outcome = inTransaction(this.transactions, group, key,
				() -> this.ledger.markDoneUnclaimed(group, key), 0, this.maxClaims, this.suspects, work);
		this.listener.checked(store(), (outcome == Outcome.PROCESSED) ? "new" : "duplicate");
		return outcome;
	}

	/**
	 * Mark the key done and run the work in one transaction. Only once the key's row is this transaction's (a
	 * concurrent delivery of the same key waits here, and finds the key done if this one commits) is a claim count
	 * above the limit looked at, and then it is a crash loop only when {@link CrashLoopSuspects} confirms it: claims
	 * that are still running are not crashes.
	 * @param markDone marks the key done in the transaction: {@code false} when it already was
	 * @param claims the claims counted so far including this one, {@code 0} when not counted
	 */
	static Outcome inTransaction(TransactionTemplate transactions, String group, String key,
			Supplier<Boolean> markDone, long claims, int maxClaims, CrashLoopSuspects suspects, Work work)
			throws Exception {
		try {
			return transactions.execute((status) -> {
				if (!ledgerCall(markDone, group, key)) {
					status.setRollbackOnly();
					return Outcome.DUPLICATE;
				}
				if (claims > maxClaims) {
					if (suspects.confirm(group, key)) {
						throw crashLoop(group, key, claims, maxClaims);
					}
					throw CrashLoopSuspects.suspected(group, key, claims, maxClaims); // rolls back; the claim is taken back
				}
				suspects.clear(group, key);
				try {
					work.run();
				}
				catch (RuntimeException | Error ex) {
					throw ex;
				}
				catch (Exception ex) {
					throw new WorkFailedException(ex);
				}
				return Outcome.PROCESSED;
			});
		}
		catch (WorkFailedException ex) {
			throw (Exception) ex.getCause();
		}
		catch (CannotCreateTransactionException ex) {
			throw new GuardUnavailableException("The database is unreachable: the record with idempotency key " + key
					+ " is not processed without its ledger and will be retried: " + ex.getMessage(), ex);
		}
		catch (TransactionSystemException ex) {
			throw new GuardUnavailableException("The commit of the record with idempotency key " + key + " failed, "
					+ "its outcome unknown; the record is retried and the ledger decides: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Run a ledger statement, turning the errors that mean "cannot decide now" into
	 * {@link GuardUnavailableException}.
	 */
	static <T> T ledgerCall(Supplier<T> call, String group, String key) {
		try {
			return call.get();
		}
		catch (TransientDataAccessException | RecoverableDataAccessException | DataAccessResourceFailureException ex) {
			throw new GuardUnavailableException("The idempotency ledger cannot decide on key " + key + " of group "
					+ group + " now (" + ex.getClass().getSimpleName() + "); the record will be retried: "
					+ ex.getMessage(), ex);
		}
	}

	static CrashLoopException crashLoop(String group, String key, long claims, int maxClaims) {
		return new CrashLoopException("Record with idempotency key " + key + " of group " + group + " was claimed "
				+ claims + " times without finishing (reliable.kafka.consumer.idempotency.max-claims=" + maxClaims
				+ "): it keeps killing or stalling its consumer");
	}

	@Override
	public List<StoreProbe> probe() {
		return List.of(StoreProbe.of("ledger", true, this.ledger::ping));
	}

	@Override
	public KeyState state(String group, String key) {
		return this.ledger.state(group, key); // the ledger is the final word
	}

	@Override
	public void deadLettered(DeadLetterRecord record) {
		this.ledger.recordDeadLetter(record);
	}

	@Override
	public List<DeadLetterRecord> deadLetters(String messageId) {
		return this.ledger.deadLetters(messageId);
	}

	@Override
	public String store() {
		return "jdbc";
	}

	/** Carries a checked exception of the work through the transaction template. */
	private static final class WorkFailedException extends RuntimeException {

		private static final long serialVersionUID = 1L;

		WorkFailedException(Exception cause) {
			super(cause);
		}

	}

}
