"""The receiver under the gunicorn configuration we ship (config/gunicorn.conf.py), over real sockets:
chunked requests as a client sends them, and clients that declare a body they never finish sending.

WSGI servers differ in how they hand a chunked body over (gunicorn decodes it and sets
``wsgi.input_terminated``), and slow clients are a matter of the server's workers and timeouts, so only a
real server shows either. PostgreSQL, since the server's processes need the test database too.
"""

import http.client
import importlib.util
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.conftest import load_fixture, timely_headers
from tests.webhooks.server_processes import stop_process
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

GUNICORN_CONF = Path(django_settings.BASE_DIR) / "config" / "gunicorn.conf.py"
PORTS = range(18200, 18220)
WAIT_SECONDS = 60


def shipped_configuration():
    spec = importlib.util.spec_from_file_location("shipped_gunicorn_conf", GUNICORN_CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def server_database_url() -> str:
    """The test database, for the server's processes."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    for port in PORTS:
        with closing(socket.socket()) as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 18200-18219")


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    """gunicorn with the shipped configuration file, on the test database, bound to a free local port."""
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": server_database_url()}
    with log.open("w") as output:
        process = subprocess.Popen(
            [Path(sys.executable).with_name("gunicorn"), "--config", str(GUNICORN_CONF),
             "--bind", f"127.0.0.1:{port}", "--no-control-socket"],
            cwd=django_settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_answering(port, process, log)
        yield port
    finally:
        stop_process(process, timeout=30)


def wait_until_answering(port: int, process, log: Path):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{log.read_text()}")
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer:\n{log.read_text()}")


def delivery(event_id: str) -> bytes:
    return json.dumps({**load_fixture("timely", "contact.created"), "event_id": event_id}).encode()


def post(port: int, body, headers: dict, **options) -> tuple[int, dict]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_SECONDS)
    try:
        client.request(
            "POST", "/webhooks/timely/", body=body, headers={"Content-Type": "application/json", **headers}, **options
        )
        response = client.getresponse()
        return response.status, json.loads(response.read())
    finally:
        client.close()


def test_a_real_chunked_request_is_read_whole_verified_and_stored(server):
    body = delivery("evt_chunked")
    pieces = [body[:7], body[7:100], body[100:]]  # three chunks on the wire, no Content-Length

    status, answer = post(server, iter(pieces), timely_headers(body), encode_chunked=True)

    assert (status, answer["status"]) == (200, "accepted")
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body
    assert "Content-Length" not in event.headers
    assert post(server, iter(pieces), timely_headers(body), encode_chunked=True)[1]["status"] == "duplicate"


def test_a_real_chunked_request_over_the_limit_is_413(server):
    chunk = b"x" * 65536
    with socket.create_connection(("127.0.0.1", server), timeout=WAIT_SECONDS) as client:
        client.sendall(
            b"POST /webhooks/timely/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )

        def send_three_megabytes():
            try:
                for _ in range(48):
                    client.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                client.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server may close once it has answered: it need not read the rest

        sender = threading.Thread(target=send_three_megabytes)
        sender.start()
        status_line = read_status_line(client)
        sender.join(timeout=WAIT_SECONDS)

    assert status_line.startswith(b"HTTP/1.1 413")
    assert not WebhookEvent.objects.exists()


def read_status_line(client: socket.socket) -> bytes:
    received = b""
    while b"\r\n" not in received:
        part = client.recv(4096)
        if not part:
            break
        received += part
    return received.split(b"\r\n", 1)[0]


def test_half_sent_requests_beyond_the_workers_do_not_stop_intake(server):
    conf = shipped_configuration()
    held = []
    try:
        # Each declares 1000 bytes and sends ten: a sync worker waits for the rest, serving no one else.
        for _ in range(conf.workers * 2):
            client = socket.create_connection(("127.0.0.1", server), timeout=WAIT_SECONDS)
            client.sendall(
                b"POST /webhooks/timely/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"event":'
            )
            held.append(client)

        bodies = [delivery(f"evt_while_held_{n}") for n in range(10)]
        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            answers = list(pool.map(lambda body: post(server, body, timely_headers(body)), bodies))

        assert [status for status, _ in answers] == [200] * len(bodies)
        assert {answer["status"] for _, answer in answers} == {"accepted"}
        assert WebhookEvent.objects.count() == len(bodies)
        # Served while every half-sent request was still waiting for its body (none answered yet)...
        assert not any(has_answer(client) for client in held)
        # ...each of which is given up once its body stops arriving, freeing its thread.
        assert {read_status_line(client) for client in held} == {b"HTTP/1.1 408 Request Timeout"}
    finally:
        for client in held:
            client.close()


def has_answer(client: socket.socket) -> bool:
    ready, _, _ = select.select([client], [], [], 0)
    return bool(ready)
