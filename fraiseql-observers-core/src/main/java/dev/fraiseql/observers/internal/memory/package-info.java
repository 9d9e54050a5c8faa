/** In-memory backend, bus and stores. Internal: not part of the public API. */
package dev.fraiseql.observers.internal.memory;
