"""The queue the app's SQLite writers take turns in (docs/performance.md).

SQLite's busy handler makes a writer that finds the lock taken sleep 1, 2, 5, 10, 15, 20, 25 ms … between
looks, so under concurrent deliveries the lock sat free while the next writer slept. The app's write
transactions (an inline delivery, a worker's batch, a replay) therefore first take their turn at the
operating system (``writer_turn``): an exclusive ``flock`` on ``<database>-writer`` beside the file, looked at
every half millisecond, so the next writer starts within about a millisecond of the last commit. Past the
busy timeout a writer goes on regardless and SQLite's own timeout decides, as without the queue. The lock
ends with the transaction, or with its process. In-memory databases and PostgreSQL have no queue; other
writers (the admin, commands) wait in SQLite's busy handler as before.
"""

import fcntl
import os
import threading
import time
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

POLL_SECONDS = 0.0005
# One open file per thread and process: flock excludes other open files, never the holder's own.
_queues = threading.local()


@contextmanager
def writer_turn(using: str = DEFAULT_DB_ALIAS):
    """Around a write transaction (``with writer_turn(), transaction.atomic():``): wait for this writer's
    turn on a SQLite file; nothing anywhere else, nor inside a transaction already under way."""
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block or connection.is_in_memory_db():
        yield
        return
    timeout = float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5))
    with writer_queue(f"{connection.settings_dict['NAME']}-writer", timeout=timeout):
        yield


@contextmanager
def writer_queue(path: str, *, timeout: float):
    fd = _queue_file(path)
    deadline = time.monotonic() + timeout
    held = False
    while not held:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                break  # SQLite's own busy timeout decides from here
            time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        if held:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _queue_file(path: str) -> int:
    files = getattr(_queues, "files", None)
    if files is None or _queues.pid != os.getpid():  # a forked child opens its own
        files = _queues.files = {}
        _queues.pid = os.getpid()
    if path not in files:
        files[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return files[path]
