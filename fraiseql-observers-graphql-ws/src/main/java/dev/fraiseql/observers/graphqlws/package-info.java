/**
 * GraphQL subscriptions over the graphql-ws protocol, fed by the observer engine:
 * {@link dev.fraiseql.observers.graphqlws.GraphQLWs} (built from the {@code [graphql_ws]} section of
 * {@code fraiseql.toml}), the {@link dev.fraiseql.observers.graphqlws.Authenticator} the host supplies,
 * and {@link dev.fraiseql.observers.graphqlws.GraphQLWsServer}, a standalone Jetty 12 server.
 */
package dev.fraiseql.observers.graphqlws;
