package dev.fraiseql.observers.spi;

/**
 * The bus's acknowledgement of a publish.
 *
 * @param subject where it was stored
 * @param duplicate true when the bus recognised the de-duplication id and did not store it again
 * @param position where it was stored: a JetStream sequence, a Redis stream entry id, a table row id
 */
public record PublishAck(String subject, boolean duplicate, String position) {}
