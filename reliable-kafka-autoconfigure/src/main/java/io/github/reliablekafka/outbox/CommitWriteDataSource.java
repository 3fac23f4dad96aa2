package io.github.reliablekafka.outbox;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.springframework.core.InfrastructureProxy;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * The data source of a transaction manager whose transactions write their outbox rows with the commit: its
 * connections are {@link CommitWriteConnection}s. It stands for the data source it wraps wherever Spring binds a
 * transaction's connection ({@link InfrastructureProxy}), so code that looks up the transaction's connection through
 * the application's own {@code DataSource} bean (a {@code JdbcTemplate}, {@code DataSourceUtils}) finds this one. The
 * application's bean itself is not replaced: only the transaction manager holds this wrapper.
 */
public final class CommitWriteDataSource extends DelegatingDataSource implements InfrastructureProxy {

	/**
	 * Wrap a data source.
	 * @param target the application's data source
	 */
	public CommitWriteDataSource(DataSource target) {
		super(target);
	}

	@Override
	public Connection getConnection() throws SQLException {
		return CommitWriteConnection.wrap(obtainTargetDataSource().getConnection());
	}

	@Override
	public Connection getConnection(String username, String password) throws SQLException {
		return CommitWriteConnection.wrap(obtainTargetDataSource().getConnection(username, password));
	}

	@Override
	public Object getWrappedObject() {
		return obtainTargetDataSource();
	}

	@Override
	public String toString() {
		return "Outbox commit-write data source for " + obtainTargetDataSource();
	}

}
