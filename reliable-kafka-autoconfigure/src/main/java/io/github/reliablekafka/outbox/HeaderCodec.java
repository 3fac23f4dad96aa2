package io.github.reliablekafka.outbox;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.jspecify.annotations.Nullable;

/**
 * Stores record headers in one column: a count, then each name (UTF-8) and value (bytes, or -1 for null).
 */
final class HeaderCodec {

	private HeaderCodec() {
	}

	static byte[] encode(Headers headers) {
		Header[] all = headers.toArray();
		ByteArrayOutputStream bytes = new ByteArrayOutputStream();
		try (DataOutputStream out = new DataOutputStream(bytes)) {
			out.writeInt(all.length);
			for (Header header : all) {
				byte[] name = header.key().getBytes(StandardCharsets.UTF_8);
				out.writeInt(name.length);
				out.write(name);
				byte[] value = header.value();
				out.writeInt((value != null) ? value.length : -1);
				if (value != null) {
					out.write(value);
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return bytes.toByteArray();
	}

	static RecordHeaders decode(byte @Nullable [] encoded) {
		RecordHeaders headers = new RecordHeaders();
		if (encoded == null) {
			return headers;
		}
		try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
			int count = in.readInt();
			for (int i = 0; i < count; i++) {
				byte[] name = in.readNBytes(in.readInt());
				int length = in.readInt();
				headers.add(new String(name, StandardCharsets.UTF_8), (length >= 0) ? in.readNBytes(length) : null);
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Corrupt headers in outbox row", ex);
		}
		return headers;
	}

}
