package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The outbox table's rules, run on each database through a subclass, straight on the store (the relay stopped): who
 * may claim what, in which order, fenced by which lease; the writer lease and its admission; the retention sweep. The
 * end-to-end contract, with a real broker and faults, is {@link AbstractOutboxTests}.
 */
abstract class AbstractOutboxStoreTests extends OutboxDatabaseTestSupport {

	private OutboxWriter writer;

	/** The store of an application whose relay is stopped: every claim in a test is the test's own. */
	private OutboxStore store() {
		ConfigurableApplicationContext context = start();
		context.getBean(TransactionalOutbox.class).relay().stop();
		this.writer = context.getBean(TransactionalOutbox.class).writer();
		return context.getBean(TransactionalOutbox.class).store();
	}

	/** Write a row not leased to anyone (as in relay mode). */
	private void insert(OutboxRow row) {
		insert(row, null, 0);
	}

	/** Write a row, leased to the writer token of {@code owner} until {@code leaseUntil} (as in immediate mode). */
	private void insert(OutboxRow row, String owner, long leaseUntil) {
		this.writer.insert(row, owner, leaseUntil);
	}

	/** Confirmations of rows, each at partition 0 and an offset equal to its id. */
	private static List<OutboxStore.Sent> sent(List<Long> ids) {
		return ids.stream().map((id) -> new OutboxStore.Sent(id, 0, id)).toList();
	}

	@Test
	void aRowMarkedSentKeepsWhereKafkaWroteItAndATableWithoutTheColumnsIsMarkedWithoutThem() {
		ConfigurableApplicationContext context = start();
		context.getBean(TransactionalOutbox.class).relay().stop();
		this.writer = context.getBean(TransactionalOutbox.class).writer();
		OutboxStore store = context.getBean(TransactionalOutbox.class).store();
		OutboxOperations operations = context.getBean(OutboxOperations.class);
		long now = System.currentTimeMillis();
		for (int i = 1; i <= 3; i++) {
			insert(row(id(i), "k-" + i, now, now));
		}
		List<OutboxRow> claimed = store.claimDue("relay-a", now, now + 60_000, 10, false);
		assertThat(claimed).hasSize(3);
		List<OutboxStore.Sent> confirmed = List.of(new OutboxStore.Sent(claimed.get(0).id(), 2, 41),
				new OutboxStore.Sent(claimed.get(1).id(), 0, 7), new OutboxStore.Sent(claimed.get(2).id(), 5, 1_000_000_000_123L));
		assertThat(store.markSent("relay-a", confirmed, now)).isEqualTo(3);
		for (OutboxStore.Sent each : confirmed) {
			OutboxMessage message = operations.find(claimed.stream().filter((row) -> row.id() == each.id()).findFirst()
				.orElseThrow().messageId()).orElseThrow();
			assertThat(message.status()).isEqualTo(OutboxStatus.SENT);
			assertThat(message.sentPartition()).isEqualTo(each.partition());
			assertThat(message.sentOffset()).isEqualTo(each.offset());
		}
		System.out.println("marked with positions (" + database().kind() + "): " + confirmed);
		// a table made by an earlier script, without the columns: marks and look-ups go on without them
		new org.springframework.jdbc.core.JdbcTemplate(database().dataSource()).execute("ALTER TABLE rk_outbox DROP COLUMN sent_partition");
		new org.springframework.jdbc.core.JdbcTemplate(database().dataSource()).execute("ALTER TABLE rk_outbox DROP COLUMN sent_offset");
		ConfigurableApplicationContext older = start();
		older.getBean(TransactionalOutbox.class).relay().stop();
		OutboxStore olderStore = older.getBean(TransactionalOutbox.class).store();
		this.writer = older.getBean(TransactionalOutbox.class).writer();
		insert(row(id(4), "k-4", now, now));
		List<OutboxRow> claimedOnOlder = olderStore.claimDue("relay-c", now, now + 60_000, 10, false);
		assertThat(olderStore.markSent("relay-c", List.of(new OutboxStore.Sent(claimedOnOlder.get(0).id(), 1, 9)), now))
			.isEqualTo(1);
		OutboxMessage older4 = older.getBean(OutboxOperations.class).find(claimedOnOlder.get(0).messageId()).orElseThrow();
		assertThat(older4.status()).isEqualTo(OutboxStatus.SENT);
		assertThat(older4.sentPartition()).isNull();
		assertThat(older4.sentOffset()).isNull();
	}

	@Test
	void anExpiredLeaseCanNeitherMarkNorReleaseARowAnotherRelayClaimed() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		insert(row(id(1), "k", now, now));
		List<OutboxRow> claimedByA = store.claimDue("relay-a", now, now + 100, 10, false);
		assertThat(claimedByA).hasSize(1);
		assertThat(store.claimDue("relay-b", now + 50, now + 60_000, 10, false)).as("lease of A still valid")
			.isEmpty();
		List<OutboxRow> claimedByB = store.claimDue("relay-b", now + 200, now + 60_000, 10, false);
		assertThat(claimedByB).hasSize(1);
		long id = claimedByB.get(0).id();
		assertThat(store.markSent("relay-a", sent(List.of(id)), now + 300)).isZero();
		assertThat(store.markRetry("relay-a", id, 1, "late", now)).isZero();
		assertThat(store.release("relay-a", List.of(id))).isZero();
		assertThat(store.renew("relay-a", now + 300, now + 60_000)).isZero();
		assertThat(store.markSent("relay-b", sent(List.of(id)), now + 300)).isEqualTo(1);
	}

	@Test
	void aKeysLaterRowsAreNotClaimedWhileAnEarlierOneIsHeldElsewhereOrWaitsForItsRetry() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		for (int i = 1; i <= 3; i++) {
			insert(row(id(i), "k", now, now));
		}
		insert(row(id(9), "other", now, now));
		insert(row(id(8), null, now, now));
		List<OutboxRow> first = store.claimDue("relay-a", now, now + 60_000, 1, false);
		assertThat(first).extracting(OutboxRow::messageId).containsExactly(id(1));
		assertThat(store.claimDue("relay-b", now, now + 60_000, 10, false)).as("k is held by relay-a's row")
			.extracting(OutboxRow::key)
			.containsExactly("other", null);
		assertThat(store.claimDue("relay-a", now, now + 60_001, 10, false))
			.as("the holder of k's first row takes the rest of k's line")
			.extracting(OutboxRow::messageId)
			.containsExactly(id(2), id(3));
		List<Long> later = store.claimDue("relay-a", now, now + 60_002, 10, false).stream().map(OutboxRow::id).toList();
		assertThat(later).isEmpty();
		store.markRetry("relay-a", first.get(0).id(), 1, "broker down", now + 60_000);
		store.release("relay-a", List.of(first.get(0).id() + 1, first.get(0).id() + 2));
		assertThat(store.claimDue("relay-b", now, now + 60_003, 10, false))
			.as("a row waiting for its retry holds its key").isEmpty();
		assertThat(store.claimDue("relay-b", now + 60_000, now + 120_000, 10, false))
			.as("once due again, it goes first, followed by its key's line")
			.extracting(OutboxRow::key)
			.containsExactly("k", "k", "k");
	}

	@Test
	void thePollLeavesRowsYoungerThanItsGraceToTheirWriterAndTheyHoldTheirKey() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		insert(row(id(1), "k", now, now)); // just committed
		insert(row(id(2), "k", now - 5_000, now)); // later, an older clock
		insert(row(id(3), "old", now - 5_000, now));
		assertThat(store.claimDue("relay-a", now, now + 60_000, 10, false, now - 1_000))
			.as("the young row is its writer's; it holds k's later row")
			.extracting(OutboxRow::messageId)
			.containsExactly(id(3));
		assertThat(store.claimDue("relay-a", now + 2_000, now + 60_001, 10, false, now + 1_000))
			.as("once older than the grace, k's line goes in order")
			.extracting(OutboxRow::messageId)
			.containsExactly(id(1), id(2));
	}

	/** Health and meters: a delayed row waits from its due time, so one not due yet is not late. */
	@Test
	void theOldestPendingAgeCountsOnlyRowsThatAreDue() {
		store();
		OutboxOperations operations = new JdbcOutboxOperations(database().dataSource(), "rk_outbox");
		long now = System.currentTimeMillis();
		long tenMinutesAgo = now - 600_000;
		insert(row(id(1), "k", tenMinutesAgo, now + 1_200_000)); // written 10 min ago, due in 20 min
		assertThat(operations.oldestPendingAge()).as("a row not due yet").isZero();
		insert(row(id(2), "k", tenMinutesAgo, now - 60_000)); // written 10 min ago, due 1 min ago
		assertThat(operations.oldestPendingAge()).as("waits since its due time")
			.isBetween(java.time.Duration.ofSeconds(59), java.time.Duration.ofSeconds(75));
		insert(row(id(3), "j", tenMinutesAgo, tenMinutesAgo)); // written and due 10 min ago
		assertThat(operations.oldestPendingAge()).isBetween(java.time.Duration.ofSeconds(599),
				java.time.Duration.ofSeconds(615));
		assertThat(operations.pendingCount()).as("every unconfirmed row, due or not").isEqualTo(3);
	}

	@Test
	void aDelayedRowDoesNotHoldItsKey() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		insert(row(id(1), "k", now, now + 60_000));
		insert(row(id(2), "k", now, now));
		assertThat(store.claimDue("relay-a", now, now + 60_000, 10, false)).extracting(OutboxRow::messageId)
			.containsExactly(id(2));
	}

	@Test
	void aRowWrittenUnderItsWritersLeaseIsTakenByNoPollAndAdmittedByItsWriter() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		insert(row(id(1), "k", now - 5_000, now), "relay-a", now + 60_000);
		insert(row(id(2), "k", now - 5_000, now));
		assertThat(store.claimDue("relay-b", now, now + 60_000, 10, false)).as("another instance's poll").isEmpty();
		assertThat(store.claimDue("relay-a", now, now + 60_001, 10, false))
			.as("its writer's own poll: the row may still be on its way from the commit to the relay").isEmpty();
		List<OutboxStore.Admitted> admitted = store.admitCommitted("relay-a", now, false, List.of(id(1)));
		assertThat(admitted).extracting(OutboxStore.Admitted::messageId)
			.containsExactly(id(1));
		long id = admitted.get(0).id();
		assertThat(store.markSent("relay-b", sent(List.of(id)), now)).as("fenced by the writer's lease").isZero();
		assertThat(store.markSent("relay-a", sent(List.of(id)), now)).isEqualTo(1);
		assertThat(store.claimDue("relay-b", now, now + 60_002, 10, false)).extracting(OutboxRow::messageId)
			.containsExactly(id(2));
	}

	@Test
	void aWrittenRowBehindAnEarlierRowOfItsKeyHeldElsewhereIsGivenBackNotAdmitted() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		insert(row(id(1), "k", now - 5_000, now));
		List<OutboxRow> heldByB = store.claimDue("relay-b", now, now + 60_000, 10, false);
		assertThat(heldByB).hasSize(1);
		insert(row(id(2), "k", now - 5_000, now), "relay-a", now + 60_000);
		insert(row(id(3), "other", now - 5_000, now), "relay-a", now + 60_000);
		assertThat(store.admitCommitted("relay-a", now, false, List.of(id(2), id(3))))
			.extracting(OutboxStore.Admitted::messageId)
			.containsExactly(id(3));
		assertThat(store.claimDue("relay-c", now, now + 60_000, 10, false)).as("k's row waits behind relay-b's")
			.isEmpty();
		store.markSent("relay-b", sent(List.of(heldByB.get(0).id())), now);
		assertThat(store.claimDue("relay-c", now, now + 60_001, 10, false))
			.as("given back, not leased: it goes in k's line").extracting(OutboxRow::messageId)
			.containsExactly(id(2));
	}

	@Test
	void anAdmittedRowNamesTheEarlierRowsOfItsKeyUnderTheSameWritersLease() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		insert(row(id(1), "k", now, now), "relay-a", now + 60_000);
		insert(row(id(2), "k", now, now), "relay-a", now + 60_000);
		insert(row(id(3), "other", now, now), "relay-a", now + 60_000);
		// the second row's notice came first: its relay must learn that the first is its own and not here yet
		List<OutboxStore.Admitted> admitted = store.admitCommitted("relay-a", now, false, List.of(id(2), id(3)));
		assertThat(admitted).extracting(OutboxStore.Admitted::messageId)
			.containsExactly(id(2), id(3));
		assertThat(admitted.get(0).writerRowsBefore()).containsExactly(admitted.get(0).id() - 1);
		assertThat(admitted.get(1).writerRowsBefore()).isEmpty();
	}

	@Test
	void aWritersLeaseRunsOutLikeAClaimsLease() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		insert(row(id(1), "k", now - 5_000, now), "relay-a", now + 100);
		List<OutboxRow> taken = store.claimDue("relay-b", now + 200, now + 60_000, 10, false);
		assertThat(taken).as("its writer died: another instance takes it once the lease ran out").hasSize(1);
		assertThat(store.admitCommitted("relay-a", now + 300, false, List.of(id(1))))
			.isEmpty();
		assertThat(store.markSent("relay-a", sent(List.of(taken.get(0).id())), now + 300)).isZero();
		assertThat(store.markSent("relay-b", sent(List.of(taken.get(0).id())), now + 300)).isEqualTo(1);
	}

	@Test
	void aClaimThatRacesAnotherForOneKeysLineKeepsNoRowBehindTheOthers() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		insert(row(id(1), "k", now, now));
		insert(row(id(2), "k", now, now));
		// relay-b chooses k's whole line; before it leases it, relay-a leases the line's first row
		OutboxClaims claims = store.claims();
		OutboxClaims.Claim claimByB = claims.claimDue("relay-b", now, now + 60_001, 10, false, Long.MAX_VALUE);
		List<Long> candidatesOfB = claims.candidates(claimByB);
		List<OutboxRow> claimedByA = store.claimDue("relay-a", now, now + 60_000, 1, false);
		List<OutboxRow> claimedByB = claims.lease(claimByB, candidatesOfB);
		assertThat(candidatesOfB).as("relay-b chose k's whole line").hasSize(2);
		assertThat(claimedByA).extracting(OutboxRow::messageId).containsExactly(id(1));
		assertThat(claimedByB).as("relay-b must not keep k's second row while relay-a holds the first").isEmpty();
		assertThat(store.claimDue("relay-a", now, now + 60_002, 10, false))
			.as("given back, the second row goes to the holder of the first").extracting(OutboxRow::messageId)
			.containsExactly(id(2));
	}

	@Test
	void theRetentionSweepWalksTheConfirmedRowsAWindowAtATimeAndSaysWhenTheNextExpires() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		for (int i = 1; i <= 4; i++) {
			insert(row(id(i), "k" + i, now, now));
		}
		List<Long> ids = store.claimDue("relay-a", now, now + 60_000, 10, false).stream().map(OutboxRow::id).toList();
		store.markSent("relay-a", sent(ids.subList(0, 2)), now - 10_000);
		store.markSent("relay-a", sent(ids.subList(2, 3)), now);
		OutboxStore.Sweep first = store.deleteSent(now - 5_000, 0, 1);
		assertThat(first.deleted()).isEqualTo(1);
		assertThat(first.lastId()).as("a full window: go on from its last id").isEqualTo(ids.get(0));
		OutboxStore.Sweep rest = store.deleteSent(now - 5_000, first.lastId(), 10);
		assertThat(rest.deleted()).isEqualTo(1);
		assertThat(rest.lastId()).as("the end reached").isNull();
		assertThat(rest.firstKeptSentAt()).isEqualTo(now);
		assertThat(rows("SELECT COUNT(*) FROM rk_outbox")).as("the young confirmed row and the unconfirmed one")
			.isEqualTo(2);
	}

	/**
	 * Rows confirmed recently with low ids (delayed rows, say) in front of many expired ones with higher ids: every
	 * expired row is deleted (before, 20,000 survived three sweeps behind 1,000 young rows).
	 */
	@Test
	void theRetentionSweepDeletesExpiredRowsWhateverTheirIds() {
		OutboxStore store = store();
		long now = System.currentTimeMillis();
		int young = 1_200;
		int expired = 2_500;
		for (int i = 1; i <= young + expired; i++) {
			insert(row(id(i), "k" + (i % 50), now, now));
		}
		List<Long> ids = new ArrayList<>();
		List<OutboxRow> claimed;
		while (!(claimed = store.claimDue("relay-a", now, now + 60_000, 1_000, false)).isEmpty()) {
			claimed.forEach((row) -> ids.add(row.id()));
		}
		ids.sort(null);
		store.markSent("relay-a", sent(ids.subList(0, young)), now);
		store.markSent("relay-a", sent(ids.subList(young, ids.size())), now - 60_000);
		long after = 0;
		int deleted = 0;
		int windows = 0;
		do {
			OutboxStore.Sweep sweep = store.deleteSent(now - 5_000, after, 1_000);
			deleted += sweep.deleted();
			windows++;
			after = (sweep.lastId() != null) ? sweep.lastId() : -1;
		}
		while (after >= 0);
		System.out.printf("retention sweep: %d expired rows behind %d young ones, %d deleted in %d windows%n", expired,
				young, deleted, windows);
		assertThat(deleted).isEqualTo(expired);
		assertThat(rows("SELECT COUNT(*) FROM rk_outbox")).isEqualTo(young);
	}

	/** The message id of the test's row number {@code n}. */
	private static String id(int n) {
		return String.format("00000000-0000-7000-8000-%012d", n);
	}

	private static OutboxRow row(String messageId, String key, long createdAt, long notBefore) {
		return new OutboxRow(0, messageId, "t", key, new byte[0], null, createdAt, notBefore, 0);
	}

}
