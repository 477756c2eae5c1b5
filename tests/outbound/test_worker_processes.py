"""Real ``webhook_worker`` processes deliver erasure messages beside the inbound drain (PostgreSQL): a slow
system holds neither the other systems nor the events, and SIGTERM leaves nothing claimed for long."""

import io
import signal
import time

import pytest
from django.core.management import call_command

from contacts.services.erasure import erase_on_request
from tests.factories import ContactFactory
from tests.outbound.receiver import closed_port_url
from tests.webhooks.test_webhook_worker_processes import WAIT_SECONDS, nothing_received, store_backlog, wait_for
from webhooks.outbound.models import OutboundMessage

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("erasure_log_cleanup"),
]


def add_system(name: str, url: str) -> None:
    call_command("add_downstream_system", "--name", name, "--url", url, stdout=io.StringIO())


def test_a_worker_delivers_to_a_fast_system_and_drains_events_while_a_slow_and_a_dead_system_take_their_time(
    workers, receivers
):
    slow, fast = receivers(delay=5.0), receivers()
    add_system("slow", slow.url)
    add_system("dead", closed_port_url())
    add_system("fast", fast.url)
    for _ in range(4):
        erase_on_request(
            contact=ContactFactory(), requested_by="dpo", requested_by_type="admin", reason="data_subject_request"
        )
    store_backlog()

    worker = workers("delivering", OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8")
    slow_pending = OutboundMessage.objects.filter(endpoint__label="slow", status="pending")
    fast_pending = OutboundMessage.objects.filter(endpoint__label="fast", status="pending")
    wait_for(nothing_received, "the inbound backlog to drain", worker)
    # The backlog's own deletions were erasures too: one more message to each system apiece.
    assert slow_pending.count() >= 4
    wait_for(lambda: not fast_pending.exists(), "the fast system's messages", worker)

    # The slow system takes 5 s per message: neither the events nor the fast system waited for it.
    assert slow_pending.count() >= 4
    assert len(fast.requests) == OutboundMessage.objects.filter(endpoint__label="fast").count() > 4
    assert fast.requests[3].at < slow.requests[0].at + 5.0  # the first four before the slow one's first answer
    # The dead system was tried (once per claim of its due messages); the rest wait for that try's retry.
    dead = OutboundMessage.objects.filter(endpoint__label="dead")
    assert dead.filter(status="pending").count() == dead.count() >= 4
    assert set(dead.exclude(attempts=0).values_list("attempts", "last_error")) == {(1, "connection_error")}
    assert dead.filter(attempts=0).count() >= 3

    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=WAIT_SECONDS) == 0, worker.output()
    # What the slow system did not get is due again at once for the next worker, not after its lease.
    left = OutboundMessage.objects.filter(endpoint__label="slow", status="pending")
    assert left.exists()
    assert all(message.next_attempt_at.timestamp() <= time.time() + 1 for message in left)


def test_once_delivers_what_is_due_and_exits_0(workers, receivers):
    receiver = receivers()
    add_system("billing", receiver.url)
    erase_on_request(
        contact=ContactFactory(), requested_by="dpo", requested_by_type="admin", reason="data_subject_request"
    )
    worker = workers("once", "--once", OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8")
    assert worker.process.wait(timeout=WAIT_SECONDS) == 0, worker.output()
    assert "1 outbound message(s) tried" in worker.output()
    assert len(receiver.requests) == 1 and OutboundMessage.objects.get().status == "delivered"
