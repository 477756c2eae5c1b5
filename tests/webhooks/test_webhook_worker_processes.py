"""Production processing with real processes on PostgreSQL: gunicorn servers storing, ``manage.py
webhook_worker`` processes applying, on the test database. Whatever the interleaving — concurrent posts
through two servers to three workers, workers killed mid-drain, their connections cut — every contact ends
exactly as delivering the same events one by one in time order leaves it; no event fails, none is left
``received``."""

import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from contacts.models import SYNCED_FIELDS, Contact, ErasureRecord
from tests.conftest import encode, timely_headers
from tests.factories import ContactFactory
from tests.webhooks.server_processes import WAIT_SECONDS, Server, Worker, free_ports, post_json, process_env, wait_for
from tests.webhooks.timely_payloads import created, deleted, updated
from webhooks.ingest import store_delivery
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.processing import process_events
from webhooks.providers import get_provider

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("erasure_log_cleanup"),
]

WORKSPACE, IN_ORDER_WORKSPACE = "ws_abc123", "ws_inorder"


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(name, *args, **env):
        worker = Worker(tmp_path, name, *args, **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def servers(tmp_path):
    started = []

    def start(count: int):
        for port in free_ports(count):
            started.append(Server(port, tmp_path / f"gunicorn-{port}.log", process_env(), workers=2))
        for server in started:
            server.wait_until_listening()
        return started

    yield start
    for server in started:
        server.stop()


def processed_count() -> int:
    return WebhookEvent.objects.exclude(status=WebhookEventStatus.RECEIVED).count()


def nothing_received() -> bool:
    return not WebhookEvent.objects.filter(status=WebhookEventStatus.RECEIVED).exists()


# --- the history: ~1,000 deliveries about 40 contacts ----------------------------------------------------

NAMES = ["Ana", "Bia", "Caio", "Duda", "Enzo"]
TAGS = [[], ["vip"], ["vip", "pagamento-pendente"]]


def history(*, seed: int = 14, contacts: int = 40) -> list[dict]:
    """Per contact: its creation, ~20 updates (name, email, tags), for every eighth a deletion, and
    for those a late update stamped after it. Event ids sort randomly against times (ties are broken by
    them). In time order; ``arrivals`` shuffles them."""
    rng = random.Random(seed)
    events = []
    for n in range(contacts):
        contact_id = f"cont_{n:02d}"
        events.append(created(event_id=f"evt_{rng.random():.8f}", contact_id=contact_id, seconds=0,
                              name=f"{NAMES[n % 5]} {n}", email=f"p{n}@exemplo.com.br", tags=["novo"]))  # fmt: skip
        for _ in range(rng.randint(18, 24)):
            field = rng.choice(["name", "email", "tags"])
            value = {"name": f"{rng.choice(NAMES)} {n}", "email": f"p{n}.{rng.randint(0, 9)}@exemplo.com.br",
                     "tags": rng.choice(TAGS)}[field]  # fmt: skip
            events.append(updated(event_id=f"evt_{rng.random():.8f}", contact_id=contact_id,
                                  seconds=rng.randint(1, 40), changes={field: value}))  # fmt: skip
        if n % 8 == 0:
            events.append(deleted(event_id=f"evt_{rng.random():.8f}", contact_id=contact_id, seconds=30))
            events.append(updated(event_id=f"evt_{rng.random():.8f}", contact_id=contact_id, seconds=45,
                                  changes={"name": "Late"}))  # fmt: skip
    return events


def arrivals(events: list[dict], *, seed: int = 41) -> list[dict]:
    """Shuffled, with 5% of them delivered twice."""
    rng = random.Random(seed)
    delivered = events + rng.sample(events, len(events) // 20)
    rng.shuffle(delivered)
    return delivered


def in_other_workspace(payload: dict) -> dict:
    """The same event for the in-order replay: another account, ids prefixed alike (ties break the same)."""
    return {**payload, "event_id": f"io-{payload['event_id']}", "workspace_id": IN_ORDER_WORKSPACE}


_expected: dict[str, dict] = {}


def expected_state() -> dict:
    """Every contact as in-order delivery leaves it: the history stored and applied one event at a time, in
    time order, in this process (another account, so beside what the test stores), then rolled back.
    Computed once per module run."""
    if not _expected:
        events = sorted(history(), key=lambda p: (p["timestamp"], p["event_id"]))
        provider = get_provider("timely")
        with transaction.atomic(), override_settings(WEBHOOK_PROCESSING="worker"):
            for payload in events:
                body = encode(in_other_workspace(payload))
                stored = store_delivery(provider=provider, delivery=provider.parse(body), body=body, headers={},
                                        signature_form="timely-timestamped", remote_addr=None)  # fmt: skip
                process_events([stored.event_pk])
            _expected.update(contacts_state(IN_ORDER_WORKSPACE))
            transaction.set_rollback(True)
    return _expected


def contacts_state(workspace: str) -> dict:
    state = {}
    for contact in Contact.objects.filter(account_id=workspace):
        state[contact.external_id] = {
            **{name: getattr(contact, name) for name in SYNCED_FIELDS},
            "remote_updated_at": contact.remote_updated_at,
            "needs_refresh": contact.needs_refresh,
            "erased": contact.erased_at is not None,
            "erasure_records": ErasureRecord.objects.filter(
                account_id=workspace, external_id=contact.external_id
            ).count(),
        }
    return state


def assert_ends_as_in_order_delivery():
    statuses = set(WebhookEvent.objects.values_list("status", flat=True))
    assert WebhookEventStatus.FAILED not in statuses
    assert WebhookEventStatus.RECEIVED not in statuses
    assert WebhookEvent.objects.count() == len(history())
    assert contacts_state(WORKSPACE) == expected_state()
    erased = WebhookEvent.objects.filter(external_id__in=[f"cont_{n:02d}" for n in range(0, 40, 8)])
    assert not erased.filter(redacted_at__isnull=True).exists()


def store_backlog() -> None:
    """The shuffled deliveries stored as the endpoint stores them (worker mode: nothing applied)."""
    provider = get_provider("timely")
    with override_settings(WEBHOOK_PROCESSING="worker"):
        for payload in arrivals(history()):
            body = encode(payload)
            store_delivery(provider=provider, delivery=provider.parse(body), body=body, headers={},
                           signature_form="timely-timestamped", remote_addr=None)  # fmt: skip


# --- the tests ---------------------------------------------------------------------------------------------


def test_two_servers_and_three_workers_end_every_contact_as_in_order_delivery(servers, workers):
    expected_state()
    running = [workers(f"worker-{n}", "--batch-size", "25") for n in range(3)]
    first, second = servers(2)

    def post(indexed):
        index, payload = indexed
        body = encode(payload)
        server = first if index % 2 else second
        status, answer = post_json(server.port, "/webhooks/timely/", body, timely_headers(body))
        assert status == 200, answer
        return answer["status"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(post, enumerate(arrivals(history()))))

    assert answers.count("accepted") == len(history())
    wait_for(nothing_received, "every event to be applied", *running)
    assert_ends_as_in_order_delivery()
    assert all("webhook event" in worker.output() for worker in running)  # all three took part


def test_workers_killed_mid_drain_leave_nothing_half_applied(workers):
    expected_state()
    store_backlog()

    for round_, (name, until) in enumerate((("killed-1", 150), ("killed-2", 400))):
        worker = workers(name, "--batch-size", "10")
        wait_for(lambda until=until: processed_count() >= until, f"{name} to apply {until} events", worker)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()
        assert WebhookEvent.objects.filter(status=WebhookEventStatus.RECEIVED).exists(), round_

    survivors = [workers(f"after-{n}", "--batch-size", "25") for n in range(2)]
    wait_for(nothing_received, "the new workers to finish", *survivors)
    assert_ends_as_in_order_delivery()
    assert {event.attempts for event in WebhookEvent.objects.all()} == {1}  # killed batches left no trace


def test_workers_whose_connections_are_cut_mid_drain_reconnect_and_finish(workers):
    expected_state()
    store_backlog()
    running = [workers(f"cut-{n}", "--batch-size", "10") for n in range(3)]
    wait_for(lambda: processed_count() >= 200, "the workers to be mid-drain", *running)

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    with psycopg.connect(**params, autocommit=True) as admin:
        ours = (connection.connection.info.backend_pid,)
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND pid <> ALL(%s) AND backend_type = 'client backend'",
            [list(ours)],
        ).fetchall()
    assert cut  # the workers that held a connection at that moment

    wait_for(nothing_received, "the workers to reconnect and finish", *running)
    assert all(worker.process.poll() is None for worker in running)  # they kept running
    assert any("database unavailable" in worker.output() for worker in running)
    assert_ends_as_in_order_delivery()


def test_sigterm_lets_the_batch_in_progress_commit_then_exits_0(workers):
    store_backlog()
    worker = workers("terminated", "--batch-size", "20")
    wait_for(lambda: processed_count() >= 40, "the worker to be mid-drain", worker)

    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=WAIT_SECONDS) == 0

    output = worker.output()
    assert "SIGTERM received, stopping after the current batch" in output
    done = int(output.rsplit("webhook worker stopped after ", 1)[1].split(" ")[0])
    # Exactly what it reported is applied: the batch it was in committed whole, nothing after it began.
    assert processed_count() == done < len(arrivals(history()))


def test_sigterm_during_contact_look_ups_exits_0_after_the_look_up_in_progress(workers):
    # 30 contacts due for a look-up, each taking 0.5 s: a tick of 20 would take 10 s.
    for n in range(30):
        ContactFactory(provider="fpt", account_id="48213", external_id=f"{9917300 + n}", needs_refresh=True)
    worker = workers("looking-up", FPT_CONTACT_FETCHER="tests.webhooks.slow_fetcher.fetch_contact")
    looked_up = Contact.objects.filter(needs_refresh=False)
    wait_for(looked_up.exists, "the first look-up", worker)

    worker.process.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    assert worker.process.wait(timeout=WAIT_SECONDS) == 0, worker.output()
    assert time.monotonic() - stopped_at < 3  # the look-up in progress, not the rest of the tick
    assert "SIGTERM received" in worker.output()
    # What it did not get to is neither done nor held: due now for the next worker, not after a lease.
    left = Contact.objects.filter(needs_refresh=True)
    assert 10 < left.count() < 30
    assert not left.filter(refresh_due_at__gt=timezone.now()).exists()


def test_an_idle_worker_is_woken_by_the_new_event_not_by_its_poll(workers, servers):
    (server,) = servers(1)
    worker = workers("idle", WEBHOOK_WORKER_POLL_SECONDS="60")
    time.sleep(3)  # started, found nothing due, and waiting now
    assert worker.process.poll() is None, worker.output()

    body = encode(created(event_id="evt_wake", contact_id="cont_1", seconds=0, name="Ana Costa"))
    status, _answer = post_json(server.port, "/webhooks/timely/", body, timely_headers(body))
    assert status == 200

    # Well before its 60-second poll: the trigger's NOTIFY woke it.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not nothing_received():
        time.sleep(0.05)
    assert nothing_received()
    assert Contact.objects.get().name == "Ana Costa"


def test_once_drains_what_is_due_and_exits_0(workers):
    store_backlog()
    worker = workers("once", "--once", "--batch-size", "50")
    assert worker.process.wait(timeout=WAIT_SECONDS) == 0, worker.output()
    assert f"{len(history())} event(s) applied" in worker.output()
    assert_ends_as_in_order_delivery()
