package io.github.reliablekafka.autoconfigure.idempotency;

import java.util.List;

import javax.sql.DataSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.transaction.KafkaAwareTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The transactions the work and the ledger row share. A class of its own so that the idempotency auto-configuration
 * loads spring-jdbc's types only when the application has a database ledger.
 */
final class LedgerTransactions {

	private LedgerTransactions() {
	}

	/**
	 * Return the transactions: the application's transaction manager (so that JPA or JDBC work joins), unless it is
	 * Kafka's or another data source's; else one on the data source.
	 */
	static TransactionTemplate of(ObjectProvider<DataSource> dataSources,
			ObjectProvider<PlatformTransactionManager> transactionManagers) {
		DataSource dataSource = dataSources.getIfUnique();
		if (dataSource == null) {
			throw new IllegalStateException("The idempotency ledger needs a single DataSource");
		}
		List<PlatformTransactionManager> usable = transactionManagers.orderedStream()
			.filter((manager) -> !(manager instanceof KafkaAwareTransactionManager<?, ?>))
			.filter((manager) -> !(manager instanceof DataSourceTransactionManager jdbc)
					|| jdbc.getDataSource() == dataSource)
			.toList();
		PlatformTransactionManager manager = (usable.size() == 1) ? usable.get(0)
				: new DataSourceTransactionManager(dataSource);
		return new TransactionTemplate(manager);
	}

}
