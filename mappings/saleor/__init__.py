"""Pure translation between canonical records and Saleor's GraphQL payloads (no I/O)."""
