/** Runnable examples. Not part of the library. */
package dev.fraiseql.observers.examples;
