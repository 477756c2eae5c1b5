"""Database infrastructure shared by the apps: per-contact and chain locks, set-based bulk writes.
The raw SQL of the project lives here."""
