package dev.fraiseql.observers.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.spring.mariaapp.WidgetApp;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/** JPA capture on the MariaDB server: the same listeners, another database. */
@SpringBootTest(classes = WidgetApp.class, webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = {
    "spring.datasource.url=${FRAISEQL_TEST_MARIADB_URL:jdbc:mariadb://127.0.0.1:3306/test}",
    "spring.datasource.username=root",
    "spring.datasource.password=",
    "spring.jpa.hibernate.ddl-auto=create-drop",
    "fraiseql.observers.config=classpath:fraiseql-maria.toml",
    "fraiseql.observers.jpa.capture=true"})
class MariaDbJpaCaptureIT {
  @Autowired WidgetApp.Widgets widgets;

  @Test
  void insertUpdateDeleteArriveAfterCommitWithOldAndNewRows() throws Exception {
    WidgetApp.SEEN.clear();
    assertThatThrownBy(() -> widgets.createThenFail("ghost")).hasMessage("rolled back on purpose");
    long id = widgets.create("sprocket", 3);
    widgets.setQuantity(id, 5);
    widgets.delete(id);
    await().atMost(Duration.ofSeconds(10)).until(() -> WidgetApp.SEEN.size() >= 3);
    Thread.sleep(300);
    assertThat(WidgetApp.SEEN).hasSize(3);

    ObservedEvent insert = WidgetApp.SEEN.stream().filter(e -> e.operation() == Operation.INSERT).findFirst().orElseThrow();
    assertThat(insert.table()).isEqualTo("tb_sbstarter_widget");
    assertThat(insert.name()).isEqualTo("sbstarter_widget.created");
    assertThat(insert.newRow()).hasValue(Map.of("id", id, "name", "sprocket", "qty", 3));
    assertThat(insert.oldRow()).isEmpty();

    ObservedEvent update = WidgetApp.SEEN.stream().filter(e -> e.operation() == Operation.UPDATE).findFirst().orElseThrow();
    assertThat(update.newRow()).hasValue(Map.of("id", id, "name", "sprocket", "qty", 5));
    assertThat(update.oldRow()).hasValue(Map.of("id", id, "name", "sprocket", "qty", 3));

    ObservedEvent delete = WidgetApp.SEEN.stream().filter(e -> e.operation() == Operation.DELETE).findFirst().orElseThrow();
    assertThat(delete.newRow()).isEmpty();
    assertThat(delete.oldRow()).hasValue(Map.of("id", id, "name", "sprocket", "qty", 5));
  }
}
