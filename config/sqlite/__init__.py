"""The embedded database: its connection settings (shared by the app and the bench's floor and peer) and the
app's engine, ``config.sqlite`` (``base.py``: Django's SQLite backend whose writers queue at the operating
system instead of sleeping in SQLite's busy handler).

Concurrent writers on one SQLite file (gunicorn workers, a webhook_worker): WAL lets readers run beside
the writer, BEGIN IMMEDIATE takes the write lock when a transaction starts (instead of at its first write,
when SQLite can only fail with "database is locked"), and a writer that finds the lock taken waits up to
the busy timeout instead of failing at once. ``synchronous=NORMAL`` in WAL mode: no fsync per commit; a commit
survives the process crashing, a power loss may take the last ones back, and never corrupts the file.
"""


def sqlite_options(busy_timeout_seconds: int) -> dict:
    return {
        "transaction_mode": "IMMEDIATE",
        "timeout": busy_timeout_seconds,
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    }
