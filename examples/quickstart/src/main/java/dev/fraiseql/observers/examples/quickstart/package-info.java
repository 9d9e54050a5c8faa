/**
 * The quickstart ({@code bin/quickstart}): seed 001's blog observers against a local HTTP receiver. It
 * depends on the core and webhook modules only, so it builds and runs without the NATS, Redis or
 * PostgreSQL drivers. Not part of the library.
 */
package dev.fraiseql.observers.examples.quickstart;
