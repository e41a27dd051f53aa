"""Plain query functions: SQL in, frozen rows out. Nothing here knows about GraphQL."""
