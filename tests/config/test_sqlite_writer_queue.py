"""The app's SQLite writers take turns at the operating system (config/db/sqlite/writers.py): a write
transaction on a SQLite file first holds an exclusive flock on ``<name>-writer``, so the next writer starts
as soon as it ends instead of sleeping in SQLite's busy handler. Nothing of the kind on PostgreSQL or on an
in-memory database."""

import fcntl
import os
import threading
import time

import pytest
from django.db import connection, transaction

from config.db.sqlite.writers import writer_queue, writer_turn


def taken(path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_the_queue_is_held_for_the_block_and_released_after(tmp_path):
    path = str(tmp_path / "db.sqlite3-writer")
    with writer_queue(path, timeout=5):
        assert taken(path)
    assert not taken(path)
    with pytest.raises(ValueError), writer_queue(path, timeout=5):
        raise ValueError("a failed transaction")
    assert not taken(path)


def test_the_next_writer_goes_as_soon_as_the_first_is_done(tmp_path):
    path = str(tmp_path / "db.sqlite3-writer")
    order, waiting = [], threading.Event()

    def second():
        waiting.set()
        with writer_queue(path, timeout=5):
            order.append("second")

    with writer_queue(path, timeout=5):
        thread = threading.Thread(target=second)
        thread.start()
        waiting.wait(5)
        time.sleep(0.05)
        order.append("first done")
    thread.join(5)
    assert order == ["first done", "second"]


def test_past_the_timeout_a_writer_goes_on_and_sqlite_decides(tmp_path):
    path = str(tmp_path / "db.sqlite3-writer")
    done = []

    def second():
        with writer_queue(path, timeout=0.05):
            done.append(True)

    with writer_queue(path, timeout=5):
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(5)
    assert done == [True]


@pytest.mark.django_db
def test_no_queue_on_postgresql_an_in_memory_database_or_inside_a_transaction(tmp_path):
    # The test database is PostgreSQL or an in-memory SQLite one; tests run inside a transaction too.
    with writer_turn():
        pass
    with transaction.atomic(), writer_turn():
        pass
    assert connection.vendor == "postgresql" or connection.is_in_memory_db()
    assert not any(name.endswith("-writer") for name in os.listdir(tmp_path))
