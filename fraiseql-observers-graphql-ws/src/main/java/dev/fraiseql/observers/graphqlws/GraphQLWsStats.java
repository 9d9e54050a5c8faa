package dev.fraiseql.observers.graphqlws;

/**
 * Counters of a {@link GraphQLWs}, read at one moment.
 *
 * @param connections open sockets
 * @param subscriptions active subscriptions (all sockets)
 * @param executions distinct GraphQL executions that serve them (clients sending the same document,
 *     variables and tenant share one)
 * @param eventsReceived events taken from the engine
 * @param eventsDroppedQueueFull events dropped because the dispatch queue ({@code queue_capacity}) was full
 * @param duplicatesSkipped events skipped because their id was seen recently (a bus redelivery)
 * @param messagesSent {@code next} messages written to sockets
 * @param droppedSlowClient {@code next} messages dropped by {@link SlowClientPolicy#DROP_OLDEST}
 * @param closedSlowClient sockets closed by {@link SlowClientPolicy#CLOSE}
 */
public record GraphQLWsStats(int connections, int subscriptions, int executions, long eventsReceived,
    long eventsDroppedQueueFull, long duplicatesSkipped, long messagesSent, long droppedSlowClient,
    long closedSlowClient) {}
