package io.github.reliablekafka.autoconfigure.outbox;

import javax.sql.DataSource;

import io.github.reliablekafka.outbox.CommitWriteDataSource;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

/**
 * Gives every {@link DataSourceTransactionManager} (and {@code JdbcTransactionManager}) a
 * {@link CommitWriteDataSource} around its data source, so that its transactions write their outbox rows with the
 * commit. The application's {@code DataSource} bean is left as it is.
 */
final class CommitWriteTransactionManagerPostProcessor implements BeanPostProcessor {

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (bean instanceof DataSourceTransactionManager transactionManager) {
			DataSource dataSource = transactionManager.getDataSource();
			if (dataSource != null && !(dataSource instanceof CommitWriteDataSource)) {
				transactionManager.setDataSource(new CommitWriteDataSource(dataSource));
			}
		}
		return bean;
	}

}
