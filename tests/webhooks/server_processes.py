"""Real servers for the tests that need them: gunicorn on a port of ours, bound to 127.0.0.1.

Ports come from ``TEST_PORTS`` (``first-last``, e.g. ``18300-18349``, so that tests on a shared machine
stay in their range) or, without it, from the operating system (port 0: any free one)."""

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

START_SECONDS = 60


def free_ports(count: int) -> list[int]:
    found = []
    if ports := os.environ.get("TEST_PORTS"):
        first, last = (int(part) for part in ports.split("-"))
        candidates = range(first, last + 1)
    else:
        candidates = [0] * count
    for candidate in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            found.append(probe.getsockname()[1])
        if len(found) == count:
            return found
    raise RuntimeError(f"no {count} free port(s) in {os.environ.get('TEST_PORTS') or 'the system range'}")


class Server:
    """``gunicorn config.wsgi`` with the given environment; its output kept in a file."""

    def __init__(self, port: int, log: Path, env: dict, *, workers: int = 2):
        self.port, self.log = port, log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--workers", str(workers),
                 "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
                cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"gunicorn on {self.port} did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_json(port: int, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


WAIT_SECONDS = 120


def test_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def process_env(**extra) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "DATABASE_URL": test_database_url(),
        **extra,
    }


class Worker:
    """One ``manage.py webhook_worker`` process on the test database; its output kept in a file."""

    def __init__(self, log_dir: Path, name: str, *args: str, **env):
        self.name, self.log = name, log_dir / f"{name}.log"
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "webhook_worker", *args],
                cwd=settings.BASE_DIR, env=process_env(**env), stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        stop_process(self.process)


def wait_for(condition, what: str, *watched: Worker):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        for worker in watched:
            if worker.process.poll() is not None:
                raise AssertionError(f"{worker.name} exited while waiting for {what}:\n{worker.output()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
