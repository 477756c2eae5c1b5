"""One slow or dead system never holds the others: each system's share is delivered on its own thread."""

import time

import pytest
from django.utils import timezone

from tests.outbound.receiver import closed_port_url
from webhooks.outbound.dispatcher import OutboundDispatcher
from webhooks.outbound.models import OutboundMessage
from webhooks.outbound.queue import configure_endpoint, queue_messages

pytestmark = pytest.mark.django_db(transaction=True)


def queue_to(key: str, count: int) -> None:
    for number in range(count):
        queue_messages(endpoint_keys=[key], event_type="contact.erased", data={"id": number}, at=timezone.now())


def test_a_slow_and_a_dead_system_do_not_delay_delivery_to_the_others(receivers):
    slow, fast = receivers(delay=2.0), receivers()
    for key, url in (("slow", slow.url), ("dead", closed_port_url()), ("fast", fast.url)):
        configure_endpoint(key=key, label=key, url=url, secrets=["whsec_" + "QUJD" * 8], active=True)
    queue_to("slow", 2)
    queue_to("dead", 3)
    queue_to("fast", 30)

    started = time.time()
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    finished = time.time()

    assert len(fast.requests) == 30
    assert fast.requests[-1].at - started < 1.5, "the fast system waited for the slow one"
    assert finished - started >= 4.0  # the slow system's two tries did take their time, meanwhile
    delivered = dict(
        OutboundMessage.objects.filter(status="delivered")
        .values_list("endpoint__key")
        .annotate(n=__import__("django.db.models").db.models.Count("id"))
    )
    assert delivered == {"slow": 2, "fast": 30}
    dead = OutboundMessage.objects.filter(endpoint__key="dead")
    # One try found the system dead; the other two wait for that try's retry instead of each failing alike.
    assert sorted(dead.values_list("attempts", flat=True)) == [0, 0, 1]
    assert set(dead.values_list("status", flat=True)) == {"pending"}
    assert dead.get(attempts=1).last_error == "connection_error"
