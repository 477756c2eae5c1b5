"""The embedded default holds under concurrency: SQLite with WAL, BEGIN IMMEDIATE and a busy timeout
(config/settings/base.py) behind a real gunicorn with four workers. Twelve parallel updates to one contact
all end processed, inline and with a worker, and the newest value wins. Runs on its own SQLite file
whatever database the rest of the suite uses."""

import shutil
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from tests.conftest import encode, timely_headers
from tests.webhooks.server_processes import Server, free_ports, post_json
from tests.webhooks.timely_payloads import created, updated

PARALLEL = 12


def environment(db_path, mode: str) -> dict:
    import os

    return {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "DATABASE_URL": f"sqlite:///{db_path}",
        "TEST_WEBHOOK_PROCESSING": mode,
    }


def manage(env: dict, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    result = manage(environment(path, "inline"), "migrate", "-v0")
    assert result.returncode == 0, result.stderr
    return path


def post_parallel_updates(port: int) -> list[int]:
    body = encode(created(event_id="evt_created", contact_id="cont_1", seconds=0, name="Ana Costa"))
    assert post_json(port, "/webhooks/timely/", body, timely_headers(body))[0] == 200
    barrier = threading.Barrier(PARALLEL)

    def post(n):
        payload = updated(event_id=f"evt_{n:02d}", contact_id="cont_1", seconds=n, changes={"name": f"Name {n:02d}"})
        body = encode(payload)
        headers = timely_headers(body)
        barrier.wait(timeout=30)
        return post_json(port, "/webhooks/timely/", body, headers)[0]

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(post, reversed(range(1, PARALLEL + 1))))


@pytest.mark.parametrize("mode", ["inline", "worker"])
def test_twelve_parallel_updates_through_gunicorn_all_end_processed(mode, migrated_database, tmp_path):
    db_path = tmp_path / "db.sqlite3"
    shutil.copy(migrated_database, db_path)
    env = environment(db_path, mode)
    (port,) = free_ports(1)
    server = Server(port, tmp_path / "gunicorn.log", env, workers=4)
    try:
        server.wait_until_listening()
        assert post_parallel_updates(port) == [200] * PARALLEL
    finally:
        server.stop()
    if mode == "worker":
        result = manage(env, "webhook_worker", "--once")
        assert result.returncode == 0, result.stderr
        assert f"{PARALLEL + 1} event(s) applied" in result.stdout

    with sqlite3.connect(db_path) as db:
        statuses = db.execute("SELECT status, count(*) FROM webhooks_webhookevent GROUP BY status").fetchall()
        (name,) = db.execute("SELECT name FROM contacts_contact").fetchone()
        (journal,) = db.execute("PRAGMA journal_mode").fetchone()
    assert statuses == [("processed", PARALLEL + 1)], server.log.read_text()
    assert name == f"Name {PARALLEL:02d}"
    assert journal == "wal"
