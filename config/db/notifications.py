"""PostgreSQL's NOTIFY and LISTEN on Django's own connection: how a writer wakes idle workers and how a worker
waits for it. Raw SQL: the ORM has neither. Elsewhere (SQLite) there is nothing to send or to listen to."""

from django.db import connection


def notify(channel: str) -> None:
    """Send a notification on ``channel`` with the current transaction's commit (none outside PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [channel])


def listen(channel: str) -> bool:
    """Listen on ``channel`` on this session, until its connection closes. False where there is no LISTEN."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"LISTEN {connection.ops.quote_name(channel)}")
    return True


def wait_for_notification(timeout: float) -> bool:
    """Whether a notification arrives within ``timeout``. psycopg's generator holds the connection's lock
    until it is closed: closed here, before anything else uses the connection."""
    with connection.wrap_database_errors:  # psycopg's errors as Django's, as everywhere else
        notifications = connection.connection.notifies(timeout=timeout, stop_after=1)
        try:
            return next(notifications, None) is not None
        finally:
            notifications.close()


def forget_notifications() -> None:
    """Drop the notifications psycopg kept while the session was busy."""
    with connection.wrap_database_errors:  # a lost connection raises Django's OperationalError
        for _notification in connection.connection.notifies(timeout=0):
            pass
