"""SQLite whose writers queue at the operating system, not in SQLite's busy handler.

One writer at a time: a transaction starts with ``BEGIN IMMEDIATE`` (config/sqlite), and a writer that finds
the lock taken is put to sleep by SQLite's busy handler for 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms
in turn, looking again after each sleep. Under concurrent inline deliveries the lock then sat free most of
the time while the next writer slept (docs/performance.md). Here a transaction first takes an exclusive
``flock`` on a file beside the database (``<name>-writer``), looking every half millisecond, so the next
writer starts within about a millisecond of the last one's commit; SQLite's own lock is then free at once.
Past the busy timeout the transaction goes on to ``BEGIN IMMEDIATE`` regardless, where SQLite's own timeout
decides, as without the queue. The lock is released by the commit or rollback that ends the transaction,
or when the connection (or the process) goes. An in-memory database has no file and no queue.

Django's hook for the start of a transaction under autocommit (``_start_transaction_under_autocommit``, what
``atomic`` calls on SQLite) is pinned by tests/config/test_sqlite_writer_queue.py.
"""

import fcntl
import os
import time

from django.db.backends.sqlite3 import base

POLL_SECONDS = 0.0005


class DatabaseWrapper(base.DatabaseWrapper):
    writer_queue_fd: int | None = None
    holds_writer_lock = False

    def _start_transaction_under_autocommit(self):
        self.wait_for_the_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self.release_the_writer_lock()
            raise

    def commit(self):
        try:
            super().commit()
        finally:
            self.release_the_writer_lock()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.release_the_writer_lock()

    def close(self):
        try:
            super().close()
        finally:
            self.release_the_writer_lock()
            if self.writer_queue_fd is not None:
                os.close(self.writer_queue_fd)
                self.writer_queue_fd = None

    def wait_for_the_writer_lock(self) -> None:
        if self.holds_writer_lock or self.is_in_memory_db():
            return
        if self.writer_queue_fd is None:
            self.writer_queue_fd = os.open(f"{self.settings_dict['NAME']}-writer", os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 5))
        while True:
            try:
                fcntl.flock(self.writer_queue_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return  # SQLite's own busy timeout decides from here
                time.sleep(POLL_SECONDS)
            else:
                self.holds_writer_lock = True
                return

    def release_the_writer_lock(self) -> None:
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            fcntl.flock(self.writer_queue_fd, fcntl.LOCK_UN)
