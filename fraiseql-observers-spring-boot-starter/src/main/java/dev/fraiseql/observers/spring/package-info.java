/**
 * Spring Boot integration: {@link dev.fraiseql.observers.spring.FraiseqlObserversAutoConfiguration}
 * builds one {@link dev.fraiseql.observers.ObserverEngine} from {@code fraiseql.toml}, exposes an
 * {@link dev.fraiseql.observers.spring.ObserverEventPublisher} that dispatches after commit, and
 * registers Spring beans as Java handlers ({@link dev.fraiseql.observers.spring.ObserverHandlerMethod}).
 * Everything under {@code dev.fraiseql.observers.spring.internal} is implementation, not API.
 */
package dev.fraiseql.observers.spring;
