/**
 * The command line's commands and output. Not part of the API: may change in any release.
 */
package dev.fraiseql.observers.cli.internal;
