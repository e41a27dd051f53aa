"""The GraphQL layer: types, loaders, context, schema and the HTTP endpoint."""
