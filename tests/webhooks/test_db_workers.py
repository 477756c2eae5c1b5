"""Production processing: separate ``manage.py db_worker`` processes against PostgreSQL.

Two workers never apply one event twice, even with extra copies of its task queued; a worker killed in
the middle of an event leaves nothing half-applied, and the event is retried by the stuck event sweep.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import close_old_connections, connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from contacts.models import Contact, ErasureRecord
from tests.conftest import encode, timely_headers
from tests.webhooks.timely_payloads import created, deleted, updated
from webhooks.ingest import enqueue_processing
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.replay import sweep_stuck_events

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("erasure_log_cleanup"),
]

DATABASE_TASKS = {"default": {"BACKEND": "config.tasks.DatabaseBackend"}}
WAIT_SECONDS = 60


def test_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


class Worker:
    """One ``manage.py db_worker`` process on the test database; output kept in a file."""

    def __init__(self, log_dir: Path, worker_id: str, *args: str, database_url: str | None = None):
        self.worker_id = worker_id
        self.log = log_dir / f"{worker_id}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "DATABASE_URL": database_url or test_database_url(),
        }
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload",
                 "--interval", "0.1", "--worker-id", worker_id, *args],
                cwd=django_settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_until_started(self):
        wait_for(lambda: "Starting worker" in self.log.read_text(), f"{self.worker_id} to start", self)

    def wait_until_exited(self):
        try:
            return self.process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.worker_id} did not exit:\n{self.log.read_text()}") from None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for(condition, what: str, worker: Worker | None = None):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        if worker is not None and worker.process.poll() is not None:
            raise AssertionError(f"{worker.worker_id} exited while waiting for {what}:\n{worker.log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(worker_id, *args, **options):
        worker = Worker(tmp_path, worker_id, *args, **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def side_connection(*, autocommit: bool) -> psycopg.Connection:
    """An independent connection to the test database, beside Django's."""
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return psycopg.connect(**params, autocommit=autocommit)


@pytest.fixture
def lock_holder():
    side = side_connection(autocommit=False)
    yield side
    side.close()


@pytest.fixture
def monitor():
    """Autocommit: each look at pg_stat_activity is fresh (a transaction would keep one snapshot)."""
    side = side_connection(autocommit=True)
    yield side
    side.close()


def post(payload):
    body = encode(payload)
    close_old_connections()
    response = Client().generic(
        "POST", "/webhooks/timely/", body, content_type="application/json", headers=timely_headers(body)
    )
    assert response.status_code == 200, response.content
    return response.json()


def all_tasks_finished() -> bool:
    return not DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists()


def test_two_workers_apply_every_event_exactly_once(settings, workers):
    settings.TASKS = DATABASE_TASKS
    first, second = workers("worker-a"), workers("worker-b")
    first.wait_until_started()
    second.wait_until_started()

    for contact in range(4):
        post(created(event_id=f"evt_c{contact}", contact_id=f"cont_{contact}", seconds=0, name=f"Pessoa {contact}"))
        for n in range(1, 10):
            post(updated(event_id=f"evt_{contact}_{n}", contact_id=f"cont_{contact}", seconds=n,
                         changes={"name": f"Pessoa {contact}.{n}", "tags": [str(n)]}))  # fmt: skip
    post(deleted(event_id="evt_d3", contact_id="cont_3", seconds=20))
    # A second copy of every task, as a sweep or a replay would queue: it must change nothing.
    for event_pk in WebhookEvent.objects.values_list("pk", flat=True):
        enqueue_processing(event_pk)

    wait_for(all_tasks_finished, "every task to finish")
    first.stop()
    second.stop()

    events = WebhookEvent.objects.all()
    assert events.count() == 41
    for event in events:
        if event.external_id == "cont_3" and event.event_type != "contact.deleted":
            # Two workers may apply cont_3's deletion before some of its events: a Timely deletion is
            # final, so those are ignored, never applied over the tombstone. (Events applied out of
            # order are processed with their stale fields skipped: rule 3, checked by the names below.)
            if event.status != WebhookEventStatus.PROCESSED:
                assert (event.status, event.status_reason) == (WebhookEventStatus.IGNORED, "contact was erased")
        else:
            assert event.status == WebhookEventStatus.PROCESSED, (event.event_id, event.status_reason)
    assert {event.attempts for event in events} == {1}
    tasks = DBTaskResult.objects.all()
    assert tasks.count() == 82
    assert set(tasks.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert {worker_id for task in tasks for worker_id in task.worker_ids} == {"worker-a", "worker-b"}
    assert [c.name for c in Contact.objects.order_by("external_id")] == ["Pessoa 0.9", "Pessoa 1.9", "Pessoa 2.9", ""]
    assert ErasureRecord.objects.count() == 1


def test_worker_killed_mid_event_leaves_it_whole_and_the_sweep_retries_it(settings, workers, lock_holder, monitor):
    post(created(event_id="evt_created", contact_id="cont_1", seconds=0, name="Ana Costa"))
    created_event = WebhookEvent.objects.get()
    settings.TASKS = DATABASE_TASKS
    deletion = WebhookEvent.objects.get(
        pk=post(deleted(event_id="evt_deleted", contact_id="cont_1", seconds=5))["event"]
    )

    # Hold the created event's row: the erasure blocks when it redacts it, half-way through its work.
    lock_holder.execute("SELECT id FROM webhooks_webhookevent WHERE id = %s FOR UPDATE", [created_event.pk])
    worker = workers("worker-killed")
    blocked = []

    def erasure_is_blocked():
        blocked[:] = monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE 'UPDATE \"webhooks_webhookevent\"%'"
        ).fetchall()
        return bool(blocked)

    wait_for(erasure_is_blocked, "the erasure to block on the held row", worker)
    worker.process.kill()
    worker.process.wait()
    lock_holder.rollback()  # the server then notices its client is gone and rolls its work back
    wait_for(
        lambda: not monitor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", blocked[0]).fetchone(),
        "the killed worker's transaction to end",
    )

    deletion.refresh_from_db()
    assert (deletion.status, deletion.attempts) == (WebhookEventStatus.RECEIVED, 0)
    contact = Contact.objects.get()
    assert (contact.erased_at, contact.name) == (None, "Ana Costa")
    assert ErasureRecord.objects.count() == 0
    created_event.refresh_from_db()
    assert created_event.redacted_at is None

    assert sweep_stuck_events(older_than=timedelta(0)) == [deletion.pk]
    workers("worker-after", "--batch").wait_until_exited()

    deletion.refresh_from_db()
    assert (deletion.status, deletion.attempts) == (WebhookEventStatus.PROCESSED, 1)
    contact.refresh_from_db()
    assert contact.erased_at is not None and contact.name == ""
    assert ErasureRecord.objects.count() == 1
    created_event.refresh_from_db()
    assert created_event.redacted_at is not None


def test_a_worker_without_its_database_exits_for_its_supervisor_to_restart(workers):
    closed_port = test_database_url().replace(f":{connection.settings_dict['PORT'] or 5432}/", ":8139/")
    worker = workers("worker-no-database", database_url=closed_port)

    assert worker.wait_until_exited() != 0
    assert "OperationalError" in worker.log.read_text()
