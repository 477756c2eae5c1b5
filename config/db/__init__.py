"""Database infrastructure shared by the apps, and the project's only raw SQL: advisory locks, set-based
writes and the binary-parameter cursor, the ingest INSERT, reads compiled once, distinct values by index,
NOTIFY/LISTEN, a table's upkeep figures, the read-only probe, and SQLite's writer queue."""
