/**
 * Implementation of the graphql-ws endpoint: protocol state per connection, the shared GraphQL
 * executions, the dispatcher and the bounded buffers. <strong>Not part of the public API</strong>:
 * anything in this package may change or disappear in any release without notice. Use
 * {@link dev.fraiseql.observers.graphqlws.GraphQLWs}.
 */
package dev.fraiseql.observers.graphqlws.internal;
