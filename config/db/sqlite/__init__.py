"""The embedded database's connection settings, shared by the app and the bench's floor and peer; the
queue the app's writers take turns in is ``config.db.sqlite.writers``.

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
