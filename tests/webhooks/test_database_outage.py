"""The database goes away under a real PostgreSQL: the endpoint answers 503 (the provider retries) and
/healthz says 503; once it is back, the retried delivery is accepted and applied. Never a 2xx unless
stored, never a 500 for a delivery that was stored."""

import contextlib

import pytest
from django.db import connection
from django.test import Client

from contacts.models import Contact
from tests.conftest import encode, request_cycle, terminate, timely_headers
from tests.webhooks.timely_payloads import created
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("erasure_log_cleanup"),
]

CLOSED_PORT = 8139  # in this project's range; nothing listens there


def post(payload):
    body = encode(payload)
    with request_cycle():
        return Client().generic(
            "POST", "/webhooks/timely/", body, content_type="application/json", headers=timely_headers(body)
        )


def healthz():
    with request_cycle():
        return Client().get("/healthz")


@pytest.fixture
def payload():
    return created(event_id="evt_outage", contact_id="cont_1", seconds=0, name="Ana Costa")


def assert_accepted_and_applied(payload):
    response = post(payload)
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().name == "Ana Costa"


def test_database_on_a_closed_port_gives_503_then_the_retry_is_applied(payload):
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = CLOSED_PORT
    try:
        response = post(payload)
        assert response.status_code == 503
        assert response.json() == {"error": "the event could not be stored; retry later"}
        assert healthz().status_code == 503
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port

    assert healthz().json() == {"status": "ok"}
    assert_accepted_and_applied(payload)


def cut_before(table: str, admin_connection):
    """An execute wrapper that kills our server process just before the first INSERT into ``table``."""

    def wrapper(execute, sql, params, many, context):
        if sql.replace('"', "").startswith(f"INSERT INTO {table} "):
            terminate(admin_connection, connection.connection.info.backend_pid)
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper)


def test_connection_cut_while_storing_gives_503_then_the_retry_is_applied(payload, admin_connection):
    with cut_before(WebhookEvent._meta.db_table, admin_connection):
        response = post(payload)

    assert response.status_code == 503
    assert healthz().status_code == 200  # the server is up: a fresh connection replaces the cut one
    assert_accepted_and_applied(payload)


def test_read_only_database_gives_503_and_healthz_says_so(payload, admin_connection):
    database = connection.settings_dict["NAME"]
    admin_connection.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    connection.close()
    try:
        response = post(payload)
        assert response.status_code == 503
        health = healthz()
        assert health.status_code == 503
        assert health.json()["error"] == "database is read-only"
    finally:
        admin_connection.execute(f'ALTER DATABASE "{database}" RESET default_transaction_read_only')
        connection.close()

    assert WebhookEvent.objects.count() == 0
    assert_accepted_and_applied(payload)


@pytest.mark.parametrize("first_request_after_the_cut", ["healthz", "delivery"])
def test_persistent_connection_cut_between_requests_is_replaced_by_the_health_check(
    payload, admin_connection, first_request_after_the_cut
):
    connection.settings_dict["CONN_MAX_AGE"] = 60
    try:
        assert healthz().status_code == 200
        reused_pid = connection.connection.info.backend_pid
        terminate(admin_connection, reused_pid)

        if first_request_after_the_cut == "healthz":
            assert healthz().status_code == 200
        assert_accepted_and_applied(payload)  # answered 200, stored and applied
        assert connection.connection.info.backend_pid != reused_pid
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = 0
        connection.close()


def test_with_workers_a_delivery_cut_while_storing_leaves_nothing_and_its_retry_is_the_work(
    worker_mode, payload, admin_connection, run_worker_once
):
    """The delivery is one INSERT (its wake-up rides in the same transaction): cut, nothing is stored and
    nothing else points at it; retried, it is stored, due, and applied by the worker."""
    with cut_before(WebhookEvent._meta.db_table, admin_connection):
        response = post(payload)
    with contextlib.suppress(Exception):
        connection.close()

    assert response.status_code == 503
    assert not WebhookEvent.objects.exists()

    retried = post(payload)
    assert retried.json()["status"] == "accepted"
    assert WebhookEvent.objects.get().status == WebhookEventStatus.RECEIVED
    assert run_worker_once() == 1
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().name == "Ana Costa"
