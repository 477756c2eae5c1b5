"""/metrics is right however the server is started: plain ``gunicorn config.wsgi -w 2`` with no metrics
configuration adds its workers' counters up by itself (config/shared_counters.py), and a process that cannot
share its counters refuses to serve a partial count, saying why. Dead processes' files are cleaned."""

import http.client
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from config import shared_counters
from tests.conftest import encode, timely_headers
from tests.webhooks.server_processes import Server, free_ports, post_json
from tests.webhooks.timely_payloads import created

TOKEN = "metrics-across-processes-token-0123456789"
SCRAPES = 12


def environment(db_path, tmp_dir) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR",
                                                           "prometheus_multiproc_dir")},
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "TEST_WEBHOOK_PROCESSING": "inline",
        "DATABASE_URL": f"sqlite:///{db_path}",
        "METRICS_TOKEN": TOKEN,
        "TMPDIR": str(tmp_dir),  # the default directory lands here, fresh for this test
    }  # fmt: skip


def scrape(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        response = connection.getresponse()
        body = response.read().decode()
        assert response.status == 200, body
    finally:
        connection.close()
    return {
        (sample.labels.get("outcome"), sample.labels.get("provider")): sample.value
        for family in text_string_to_metric_families(body)
        if family.name == "crm_sync_webhook_deliveries"
        for sample in family.samples
    }


def deliver(port: int, n: int) -> int:
    body = encode(created(event_id=f"evt_{n % 6}", contact_id=f"cont_{n % 6}", seconds=n, name="Ana"))
    headers = timely_headers(body) if n % 4 else {**timely_headers(body), "X-Timely-Signature": "v1=forged"}
    return post_json(port, "/webhooks/timely/", body, headers)[0]


def test_plain_gunicorn_with_two_workers_answers_every_counter_on_every_scrape(tmp_path):
    db_path = tmp_path / "db.sqlite3"
    env = environment(db_path, tmp_path)
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=settings.BASE_DIR, env=env,
                             capture_output=True, text=True, timeout=180)  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    (port,) = free_ports(1)
    server = Server(port, tmp_path / "gunicorn.log", env, workers=2)
    try:
        server.wait_until_listening()
        with ThreadPoolExecutor(max_workers=4) as pool:  # both workers serve some of them
            answers = list(pool.map(lambda n: deliver(port, n), range(24)))
        expected = {
            ("accepted", "timely"): 6,
            ("duplicate", "timely"): answers.count(200) - 6,
            ("rejected_signature", "timely"): answers.count(401),
        }
        assert answers.count(401) == 6 and answers.count(200) == 18
        scraped = [scrape(port) for _ in range(SCRAPES)]
    finally:
        server.stop()
    assert all({key: counts.get(key) for key in expected} == expected for counts in scraped), scraped
    # The counters were shared through a directory of the installation's own, created under TMPDIR.
    assert [path.name.startswith("crm-sync-metrics-") for path in tmp_path.iterdir() if path.is_dir()].count(True) == 1


@pytest.mark.django_db
def test_a_process_that_cannot_share_its_counters_refuses_to_serve_them_and_says_why(client, monkeypatch):
    monkeypatch.setattr(settings, "METRICS_TOKEN", TOKEN)
    monkeypatch.setattr(settings, "PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.setattr(shared_counters, "chosen_directory", None)
    monkeypatch.setattr(shared_counters, "unshared_reason", "no directory for shared counters (Permission denied)")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 503
    assert "Permission denied" in response.json()["error"]
    assert "PROMETHEUS_MULTIPROC_DIR" in response.json()["error"]
    assert b"crm_sync_webhook_deliveries" not in response.content


def test_the_default_directory_is_one_per_installation(tmp_path):
    database = {"ENGINE": "django.db.backends.postgresql", "NAME": "crm", "HOST": "db", "PORT": 5432}
    one = shared_counters.installation_directory(base_dir=tmp_path, database=database)
    assert one == shared_counters.installation_directory(base_dir=tmp_path, database=dict(database))
    assert one != shared_counters.installation_directory(base_dir=tmp_path, database={**database, "NAME": "crm2"})
    assert one != shared_counters.installation_directory(base_dir=tmp_path / "other", database=database)


def test_a_directory_others_can_write_to_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(OSError, match="writable by other users"):
        shared_counters.private_directory(shared)
    link = tmp_path / "link"
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError, match="not a directory"):
        shared_counters.private_directory(link)
    shared_counters.private_directory(tmp_path / "mine")
    assert (tmp_path / "mine").stat().st_mode & 0o777 == 0o700


def test_an_operator_directory_wins_and_nothing_is_chosen(monkeypatch, tmp_path):
    class Configured:
        PROMETHEUS_MULTIPROC_DIR = str(tmp_path)

    monkeypatch.setattr(shared_counters, "chosen_directory", None)
    monkeypatch.setattr(shared_counters, "unshared_reason", None)
    shared_counters.share_counters_between_processes(Configured)
    assert (shared_counters.chosen_directory, shared_counters.unshared_reason) == (None, None)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def files_of(directory, *pids) -> dict:
    names = {}
    for pid in pids:
        for kind in ("counter", "histogram", "gauge_livesum"):
            (directory / f"{kind}_{pid}.db").write_bytes(b"")
            names.setdefault(pid, set()).add(f"{kind}_{pid}.db")
    return names


def test_a_start_after_every_process_died_deletes_their_files(tmp_path):
    first, second = dead_pid(), dead_pid()
    files_of(tmp_path, first, second)
    (tmp_path / "not-ours.txt").write_text("kept")

    shared_counters.clean_dead_processes(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["not-ours.txt"]


def test_while_a_process_lives_the_dead_ones_counters_stay_and_their_live_gauges_go(tmp_path):
    living, dead = os.getppid(), dead_pid()  # pytest's parent outlives the test
    names = files_of(tmp_path, living, dead)

    shared_counters.clean_dead_processes(tmp_path)

    left = {path.name for path in tmp_path.iterdir()}
    assert left == names[living] | {f"counter_{dead}.db", f"histogram_{dead}.db"}


def test_a_process_that_exits_marks_itself_dead(tmp_path):
    # A process of its own: the directory, the exit handler and prometheus-client's mode are per process.
    script = (
        "import os, pathlib, sys\n"
        "from config import shared_counters\n"
        "class Settings:\n"
        "    PROMETHEUS_MULTIPROC_DIR = ''\n"
        f"    BASE_DIR = {str(tmp_path)!r}\n"
        "    DATABASES = {'default': {'ENGINE': 'sqlite', 'NAME': 'x'}}\n"
        "shared_counters.share_counters_between_processes(Settings)\n"
        "from prometheus_client import CollectorRegistry, Counter, Gauge\n"
        "registry = CollectorRegistry()\n"
        "Counter('c', 'c', registry=registry).inc()\n"
        "Gauge('g', 'g', multiprocess_mode='livesum', registry=registry).set(1)\n"
        "print(shared_counters.chosen_directory, os.getpid(), sorted(os.listdir(shared_counters.chosen_directory)))\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    run = subprocess.run([sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    directory, pid, listed = run.stdout.split(" ", 2)
    assert f"gauge_livesum_{pid}.db" in listed and f"counter_{pid}.db" in listed
    assert sorted(path.name for path in Path(directory).iterdir()) == [f"counter_{pid}.db"]
