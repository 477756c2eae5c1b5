"""The embedded database's writers queue at the operating system (config/sqlite/base.py): a transaction on a
SQLite file holds an exclusive flock on ``<name>-writer`` from its ``BEGIN IMMEDIATE`` to its commit or
rollback, so the next writer starts as soon as it ends instead of sleeping in SQLite's busy handler. Pins
Django's ``_start_transaction_under_autocommit`` hook: if Django stopped calling it, these tests fail."""

import fcntl
import os
import threading
import time

import pytest
from django.db.utils import load_backend

pytestmark = pytest.mark.django_db


@pytest.fixture
def file_connection(tmp_path):
    """A connection of the app's SQLite engine to a file of its own, with the app's options."""
    from config.sqlite import sqlite_options

    backend = load_backend("config.sqlite")
    settings = {
        "NAME": str(tmp_path / "db.sqlite3"), "ENGINE": "config.sqlite", "OPTIONS": sqlite_options(5),
        "TIME_ZONE": None, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False, "USER": "", "PASSWORD": "", "HOST": "", "PORT": "", "TEST": {},
    }  # fmt: skip
    opened = []

    def connect():
        connection = backend.DatabaseWrapper(dict(settings), alias=f"queue{len(opened)}")
        opened.append(connection)
        return connection

    yield connect, tmp_path / "db.sqlite3-writer"
    for connection in opened:
        connection.close()


def writer_lock_taken(path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_transaction_holds_the_writer_lock_from_its_start_to_its_commit(file_connection):
    connect, lock_path = file_connection
    connection = connect()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    # Driven as ``atomic`` drives it on SQLite (the wrapper is not among the project's aliases).
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    assert writer_lock_taken(lock_path)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    connection.set_autocommit(True)
    assert not writer_lock_taken(lock_path)


def test_a_rolled_back_or_closed_transaction_releases_it(file_connection):
    connect, lock_path = file_connection
    connection = connect()
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    assert writer_lock_taken(lock_path)
    connection.rollback()
    connection.set_autocommit(True)
    assert not writer_lock_taken(lock_path)
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    connection.close()
    assert not writer_lock_taken(lock_path)


def test_the_next_writer_starts_as_soon_as_the_first_commits(file_connection):
    connect, _lock_path = file_connection
    first = connect()
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    started = threading.Event()
    order = []

    def write_second():
        second = connect()
        second.inc_thread_sharing()  # closed again by the fixture, from the test's thread
        started.set()
        second.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        order.append("second began")
        second.commit()
        second.set_autocommit(True)

    thread = threading.Thread(target=write_second)
    thread.start()
    started.wait(5)
    time.sleep(0.05)  # the second writer is waiting in the queue
    order.append("first commits")
    first.commit()
    first.set_autocommit(True)
    thread.join(10)
    assert order == ["first commits", "second began"]
