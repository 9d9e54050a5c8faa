package dev.fraiseql.observers.graphqlws.internal;

import dev.fraiseql.observers.graphqlws.SubscriptionDefinition;
import graphql.Scalars;
import graphql.schema.DataFetcher;
import graphql.schema.FieldCoordinates;
import graphql.schema.GraphQLArgument;
import graphql.schema.GraphQLCodeRegistry;
import graphql.schema.GraphQLFieldDefinition;
import graphql.schema.GraphQLList;
import graphql.schema.GraphQLNonNull;
import graphql.schema.GraphQLObjectType;
import graphql.schema.GraphQLScalarType;
import graphql.schema.GraphQLSchema;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the GraphQL schema from the declarations: one object type per entity type (the union of the
 * fields its subscriptions declare), a {@code Subscription} type with one field per declaration and
 * its filter arguments, and a {@code Query} type (GraphQL requires one) with
 * {@code subscriptionFields: [String!]!}.
 */
public final class SchemaFactory {
  private SchemaFactory() {}

  static GraphQLScalarType scalar(String type) {
    switch (type) {
      case "ID": return Scalars.GraphQLID;
      case "Int": return Scalars.GraphQLInt;
      case "Float": return Scalars.GraphQLFloat;
      case "Boolean": return Scalars.GraphQLBoolean;
      default: return Scalars.GraphQLString;
    }
  }

  /**
   * @param subscriptionFetcher the fetcher of every Subscription field, by field name
   * @throws IllegalArgumentException when two declarations give one field of an entity type different types
   */
  public static GraphQLSchema build(List<SubscriptionDefinition> defs,
      Map<String, DataFetcher<?>> subscriptionFetcher) {
    GraphQLCodeRegistry.Builder code = GraphQLCodeRegistry.newCodeRegistry();
    Map<String, Map<String, String>> entityFields = new LinkedHashMap<>();
    for (SubscriptionDefinition d : defs) {
      Map<String, String> fields = entityFields.computeIfAbsent(d.entityType(), k -> new LinkedHashMap<>());
      d.fields().forEach((column, type) -> {
        String prev = fields.putIfAbsent(column, type);
        if (prev != null && !prev.equals(type)) {
          throw new IllegalArgumentException("field " + column + " of " + d.entityType() + " is " + prev
              + " in one subscription and " + type + " in " + d.field() + ": give it one type");
        }
      });
    }
    Map<String, GraphQLObjectType> types = new LinkedHashMap<>();
    entityFields.forEach((entity, fields) -> {
      GraphQLObjectType.Builder ob = GraphQLObjectType.newObject().name(entity)
          .description(entity + " rows, as the observer engine's events carry them");
      fields.forEach((column, type) -> {
        String name = SubscriptionDefinition.camel(column);
        ob.field(GraphQLFieldDefinition.newFieldDefinition().name(name).type(scalar(type)));
        code.dataFetcher(FieldCoordinates.coordinates(entity, name), (DataFetcher<Object>) env -> {
          Object src = env.getSource();
          return src instanceof Map ? ((Map<?, ?>) src).get(column) : null;
        });
      });
      types.put(entity, ob.build());
    });
    GraphQLObjectType.Builder sub = GraphQLObjectType.newObject().name("Subscription");
    List<String> names = new ArrayList<>();
    for (SubscriptionDefinition d : defs) {
      GraphQLFieldDefinition.Builder f = GraphQLFieldDefinition.newFieldDefinition().name(d.field())
          .type(types.get(d.entityType()))
          .description(d.entityType() + " " + d.operation().map(Enum::name).orElse("INSERT, UPDATE and DELETE")
              + " events of " + d.table());
      d.arguments().forEach((arg, column) -> f.argument(GraphQLArgument.newArgument().name(arg)
          .type(scalar(entityFields.get(d.entityType()).getOrDefault(column, "ID")))
          .description("only rows whose " + column + " equals this")));
      sub.field(f);
      code.dataFetcher(FieldCoordinates.coordinates("Subscription", d.field()), subscriptionFetcher.get(d.field()));
      names.add(d.field());
    }
    List<String> fieldNames = List.copyOf(names);
    GraphQLObjectType query = GraphQLObjectType.newObject().name("Query")
        .field(GraphQLFieldDefinition.newFieldDefinition().name("subscriptionFields")
            .type(GraphQLNonNull.nonNull(GraphQLList.list(GraphQLNonNull.nonNull(Scalars.GraphQLString))))
            .description("The subscription fields this endpoint serves"))
        .build();
    code.dataFetcher(FieldCoordinates.coordinates("Query", "subscriptionFields"), (DataFetcher<Object>) env -> fieldNames);
    return GraphQLSchema.newSchema().query(query).subscription(sub.build()).codeRegistry(code.build()).build();
  }
}
