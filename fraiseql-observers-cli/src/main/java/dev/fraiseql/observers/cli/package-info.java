/**
 * The {@code fraiseql-observers} command line: {@code validate}, {@code explain}, {@code dead-letters},
 * {@code outbox status} and {@code send}, from a shell, with the application's {@code fraiseql.toml}
 * and environment. {@link dev.fraiseql.observers.cli.FraiseqlObserversCli} is the entry point
 * ({@code java -jar fraiseql-observers-cli-<version>-all.jar --help}, or {@code bin/fraiseql-observers}).
 * Every command is a client of the library's public API.
 */
package dev.fraiseql.observers.cli;
