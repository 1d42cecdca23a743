"""ClickHouse read side: versioned schema, idempotent writer, read queries."""
