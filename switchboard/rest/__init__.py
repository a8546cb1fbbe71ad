"""The REST compatibility API (/v1): its routes, field table, scopes and OpenAPI document, over resolvers/ as GraphQL is."""
