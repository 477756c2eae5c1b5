"""Whether the database answers and accepts writes: a standby after a failover, or a database with
``default_transaction_read_only``, answers reads but cannot store a webhook. Raw SQL: a setting's value."""

from django.db import connection


def database_is_read_only() -> bool:
    """True when the database refuses writes; raises ``DatabaseError`` when it does not answer."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('transaction_read_only')")
            return cursor.fetchone()[0] == "on"
        cursor.execute("SELECT 1")
        return False
