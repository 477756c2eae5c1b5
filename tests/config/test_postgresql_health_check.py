"""The app's PostgreSQL engine (config/db/postgresql/): a reused connection is still checked at its first
use in every request (CONN_HEALTH_CHECKS), and one the server ended is replaced before the request uses it,
but a healthy one is checked without a word to the server (Django's check sends ``SELECT 1``)."""

import select

import pytest
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection, connections

from config.db.postgresql.base import DatabaseWrapper
from tests.conftest import request_cycle, terminate
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def persistent_connection(monkeypatch):
    """Connections kept between requests, as served (CONN_MAX_AGE); the one open now expires at the next
    request's start, and that request opens one that is kept."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    yield
    connection.close()


def last_statement_seen_by_the_server(admin_connection, backend_pid: int) -> tuple:
    return admin_connection.execute(
        "SELECT query_start, query FROM pg_stat_activity WHERE pid = %s", [backend_pid]
    ).fetchone()


def a_request_that_reads_the_events() -> int:
    with request_cycle():
        return WebhookEvent.objects.count()


def test_the_engine_is_ours_and_still_postgresql():
    assert isinstance(connections[DEFAULT_DB_ALIAS], DatabaseWrapper)
    assert connection.vendor == "postgresql"
    assert connection.health_check_enabled


@pytest.mark.usefixtures("persistent_connection")
def test_a_healthy_reused_connection_is_checked_without_a_round_trip(admin_connection):
    a_request_that_reads_the_events()
    backend_pid = connection.connection.info.backend_pid
    seen = last_statement_seen_by_the_server(admin_connection, backend_pid)

    close_old_connections()  # the next request starts: the check is due again
    assert not connection.health_check_done
    connection.close_if_health_check_failed()

    assert connection.health_check_done
    assert connection.connection.info.backend_pid == backend_pid
    assert last_statement_seen_by_the_server(admin_connection, backend_pid) == seen


@pytest.mark.usefixtures("persistent_connection")
def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it(admin_connection):
    a_request_that_reads_the_events()
    ended_pid = connection.connection.info.backend_pid
    terminate(admin_connection, ended_pid)

    assert a_request_that_reads_the_events() == 0  # no error reaches the request
    assert connection.connection.info.backend_pid != ended_pid


@pytest.mark.usefixtures("persistent_connection")
def test_anything_else_the_server_sent_is_left_to_djangos_check_and_the_connection_kept(admin_connection):
    a_request_that_reads_the_events()
    backend_pid = connection.connection.info.backend_pid
    connection.connection.execute("LISTEN health_check_test")
    admin_connection.execute("NOTIFY health_check_test")
    readable = select.poll()
    readable.register(connection.connection.fileno(), select.POLLIN)
    assert readable.poll(5000), "the notification never arrived"

    close_old_connections()
    connection.close_if_health_check_failed()

    assert connection.connection.info.backend_pid == backend_pid
    assert last_statement_seen_by_the_server(admin_connection, backend_pid)[1] == "SELECT 1"
