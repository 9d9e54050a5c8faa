/**
 * Small helpers shared by the runnable examples (service URLs, per-run namespaces, a local HTTP
 * receiver, printed checks). Not part of any library's API.
 */
package dev.fraiseql.observers.examples.support;
