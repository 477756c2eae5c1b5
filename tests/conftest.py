import contextlib
import hashlib
import hmac
import json
import os
import time
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from hypothesis import settings as hypothesis_settings

from webhooks.samples import load_sample

# CI explores the same examples every run (a red build must be reproducible); local runs keep drawing
# new ones, which is where a property test finds what nobody thought of.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")

TIMELY_SECRET = settings.WEBHOOK_PROVIDERS["timely"]["SECRETS"][0]
FPT_SECRET = settings.WEBHOOK_PROVIDERS["fpt"]["SECRETS"][0]


def pytest_collection_modifyitems(config, items):
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in CI's second pass (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def load_fixture(provider: str, name: str) -> dict:
    """The provider's documented sample (``webhooks/providers/samples/<provider>/<name>.json``): the product's
    own data, which the demo and ``send_test_webhook`` send too."""
    return load_sample(provider, name)


def fixture_with_data(provider: str, event_type: str, /, **data) -> dict:
    """The fixture with keys of its ``data`` object set (or replaced)."""
    payload = load_fixture(provider, event_type)
    payload["data"].update(data)
    return payload


def encode(payload) -> bytes:
    return json.dumps(payload).encode() if not isinstance(payload, bytes) else payload


def timely_headers(body: bytes, *, secret: str = TIMELY_SECRET, timestamp: int | None = None, form="timestamped"):
    """Sign like Timely: ``timestamped`` ("{ts}.{body}" with X-Timely-Timestamp) or ``body`` alone."""
    if form == "body":
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Timely-Signature": f"sha256={digest}"}
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Timely-Signature": f"sha256={digest}", "X-Timely-Timestamp": str(timestamp)}


def fpt_headers(body: bytes, *, secret: str = FPT_SECRET, timestamp: int | None = None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-FPT-Signature": f"t={timestamp},v1={digest}"}


SIGNERS = {"timely": timely_headers, "fpt": fpt_headers}


@pytest.fixture
def post_webhook(client, django_capture_on_commit_callbacks):
    """POST a body to /webhooks/<provider>/ and run what was scheduled after commit (inline processing)."""

    def post(provider: str, payload, *, headers=None, sign=True, **sign_options):
        body = encode(payload)
        all_headers = dict(SIGNERS[provider](body, **sign_options)) if sign else {}
        all_headers.update(headers or {})
        with django_capture_on_commit_callbacks(execute=True):
            return client.generic(
                "POST", f"/webhooks/{provider}/", body, content_type="application/json", headers=all_headers
            )

    return post


@pytest.fixture
def test_webhook_posts(client, monkeypatch):
    """``send_test_webhook`` posting through the test client instead of the network: returns the URLs it
    posted to (the path it posts to is the URL's)."""
    urls = []

    def post_through_test_client(url, body, headers, timeout=10):
        urls.append(url)
        response = client.generic(
            "POST", urlsplit(url).path, body, content_type="application/json",
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )  # fmt: skip
        return response.status_code, response.content.decode()

    monkeypatch.setattr("webhooks.management.commands.send_test_webhook.post", post_through_test_client)
    return urls


@pytest.fixture
def timely_fixture():
    return lambda name: load_fixture("timely", name)


@pytest.fixture
def fpt_fixture():
    return lambda name: load_fixture("fpt", name)


@pytest.fixture
def fake_fetcher(settings):
    """Configure the test contact fetcher for FPT and hand it over, emptied."""
    from tests.contacts.fake_fetcher import fetch_contact

    settings.CONTACT_FETCHERS = {"fpt": "tests.contacts.fake_fetcher.fetch_contact"}
    fetch_contact.reset()
    yield fetch_contact
    fetch_contact.reset()


@pytest.fixture
def worker_mode(settings):
    """Production's mode: requests only store; ``webhook_worker`` applies (here: ``run_worker_once``)."""
    settings.WEBHOOK_PROCESSING = "worker"


@pytest.fixture
def run_worker_once():
    """``manage.py webhook_worker --once`` in this process: drains what is due; returns how many events."""
    from django.core.management import call_command

    from webhooks.worker import WebhookWorker

    def run(*args: str) -> int:
        if args:
            call_command("webhook_worker", "--once", *args)
            return -1
        return WebhookWorker(once=True).run()

    return run


def bypass_erasure_log_guard(sql: str, params=()):
    """Run SQL on the erasure log as someone with database access would, getting past every guard:
    on PostgreSQL with triggers off for this transaction (``session_replication_role = replica``, which
    only a superuser can set); SQLite has no trigger to get past."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


@pytest.fixture
def erasure_log_cleanup(transactional_db):
    """For transactional tests that erase: they commit records, and PostgreSQL refuses to TRUNCATE a log
    that holds any, so the flush after the test would fail. Empty the log past its guard first (and the
    data-subject requests' links to its records, which would otherwise hold it)."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM contacts_datasubjectrequest_erasures")
    bypass_erasure_log_guard("DELETE FROM contacts_erasurerecord")


@contextlib.contextmanager
def request_cycle():
    """What Django's request handler does around every request (the test client leaves it out): drop
    broken or expired connections, so persistent connections and their health checks work as served."""
    close_old_connections()
    try:
        yield
    finally:
        close_old_connections()


@pytest.fixture
def admin_connection():
    """A second, independent connection to the test database (PostgreSQL), to act on the app's connection."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    side = psycopg.connect(**params, autocommit=True)
    yield side
    side.close()


def terminate(admin_connection, backend_pid: int) -> None:
    """End a server process as ``pg_terminate_backend`` does, and wait until it is gone."""
    admin_connection.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    for _ in range(100):
        if not admin_connection.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend_pid]).fetchone():
            return
        time.sleep(0.05)
    raise AssertionError(f"backend {backend_pid} is still alive")
