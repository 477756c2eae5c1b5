"""A system deactivated or removed before it got an erasure's message: the message is not sent to it any more
(not even by a thread already delivering to it), and compliance staff mark its notice impossible with the
reason (LGPD Art. 18 §6's exception) so the erasure's receipt ends in a final status."""

import io
import threading
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.models import DownstreamSystem, ErasurePropagation, ErasureRecord
from contacts.services.downstream import remove_downstream_system, save_downstream_system
from contacts.services.erasure import erase_on_request
from contacts.services.propagation import (
    AlreadyDelivered,
    overdue_erasures,
    propagation_of,
    settle_propagation,
)
from tests.factories import ContactFactory
from webhooks.outbound import dispatcher as dispatching
from webhooks.outbound.dispatcher import OutboundDispatcher
from webhooks.outbound.models import OutboundAttempt, OutboundMessage
from webhooks.outbound.queue import TryOutcome, claim_due_messages, configure_endpoint, queue_messages, record_tries

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasure_log_cleanup")]


def add_system(*args: str) -> None:
    call_command("add_downstream_system", *args, stdout=io.StringIO())


def entries(record: ErasureRecord) -> dict[str, dict]:
    return {entry["system"]: entry for entry in propagation_of([record])[record.pk]}


def erase() -> ErasureRecord:
    return erase_on_request(
        contact=ContactFactory(), requested_by="dpo", requested_by_type="admin", reason="data_subject_request",
        reference="DSR-30",
    )  # fmt: skip


def deliver() -> int:
    return OutboundDispatcher(poll_seconds=0.2).deliver_due()


def set_active(name: str, active: bool) -> None:
    system = DownstreamSystem.objects.get(name=name)
    system.active = active
    save_downstream_system(system)


@pytest.fixture
def two_systems(receivers):
    billing, warehouse = receivers(), receivers()
    add_system("--name", "billing", "--url", billing.url)
    add_system("--name", "warehouse", "--url", warehouse.url)
    return billing, warehouse


def test_a_deactivated_systems_message_is_never_sent_and_its_notice_is_marked_impossible_from_the_record_page(
    two_systems, admin_client, settings
):
    billing, warehouse = two_systems
    record = erase()
    set_active("billing", False)

    deliver()
    assert billing.requests == [] and len(warehouse.requests) == 1
    billing_entry = entries(record)["billing"]
    assert (billing_entry["status"], billing_entry["answerable"]) == ("pending", True)
    page = admin_client.get(f"/admin/contacts/erasurerecord/{record.pk}/change/").content.decode()
    answer_url = f"/admin/contacts/erasurerecord/propagation/{billing_entry['entry'].pk}/answer/"
    assert answer_url in page

    # A webhook system's notice is never "confirmed" by hand; impossible needs a listed reason.
    refused = admin_client.post(answer_url, {"status": "confirmed"})
    assert refused.status_code == 200 and "is not one of the available choices" in refused.content.decode()
    admin_client.post(answer_url, {"status": "impossible", "reason": "system_decommissioned"})

    billing_entry = entries(record)["billing"]
    assert (billing_entry["status"], billing_entry["reason"], billing_entry["by"]) == (
        "impossible", "system_decommissioned", "admin",
    )  # fmt: skip
    assert billing_entry["at"] is not None and not billing_entry["answerable"]
    assert OutboundMessage.objects.get(endpoint__label="billing").status == "cancelled"
    # Active again: the cancelled message still never goes out, nor does a replay bring it back.
    set_active("billing", True)
    call_command("replay_outbound_messages", "--id", record_message_id(record), stdout=io.StringIO())
    deliver()
    assert billing.requests == []
    # Every system's notice is final (the source provider's task confirmed): the erasure is not overdue.
    settle_propagation(ErasurePropagation.objects.get(erasure=record, kind="source"), by="dpo", status="confirmed")
    settings.ERASURE_PROPAGATION_HOURS = 0
    assert overdue_erasures() == (0, [])
    api = {e["system"]: e for e in admin_client.get(f"/api/erasures/{record.pk}/").json()["propagation"]}
    assert api["billing"]["status"] == "impossible" and api["warehouse"]["status"] == "delivered"


def record_message_id(record: ErasureRecord) -> str:
    return ErasurePropagation.objects.filter(erasure=record, kind="webhook").values_list("message_id", flat=True)[0]


def test_a_removed_systems_pending_notice_can_be_marked_impossible_and_an_active_ones_cannot(two_systems, admin_client):
    billing, _warehouse = two_systems
    record = erase()
    remove_downstream_system(DownstreamSystem.objects.get(name="billing"))
    deliver()
    assert billing.requests == []

    warehouse_entry = ErasurePropagation.objects.get(erasure=record, system_name="warehouse")
    removed_entry = ErasurePropagation.objects.get(erasure=record, system_name="billing")
    assert removed_entry.system is None and entries(record)["billing"]["answerable"]
    with pytest.raises(ValueError, match="deactivated or removed"):
        settle_propagation(warehouse_entry, by="dpo", status="impossible", reason="disproportionate_effort")
    assert (
        admin_client.get(f"/admin/contacts/erasurerecord/propagation/{warehouse_entry.pk}/answer/").status_code == 404
    )

    settle_propagation(removed_entry, by="dpo", status="impossible", reason="system_decommissioned")
    assert entries(record)["billing"]["status"] == "impossible"
    assert entries(record)["warehouse"]["status"] == "delivered"


def test_a_notice_delivered_before_the_system_was_deactivated_stays_delivered(two_systems):
    record = erase()
    deliver()
    set_active("billing", False)
    entry = ErasurePropagation.objects.get(erasure=record, system_name="billing")
    with pytest.raises(AlreadyDelivered):
        settle_propagation(entry, by="dpo", status="impossible", reason="system_decommissioned")
    assert ErasurePropagation.objects.get(pk=entry.pk).settled_status == ""
    assert entries(record)["billing"]["status"] == "delivered"
    assert not entries(record)["billing"]["answerable"]


def test_a_thread_delivering_to_a_system_stops_at_the_next_message_once_it_is_deactivated(receivers, monkeypatch):
    monkeypatch.setattr(dispatching, "FLUSH_SECONDS", 0.0)  # the system is re-read before every message
    receiver = receivers(delay=0.5)
    configure_endpoint(key="crm-b", label="crm-b", url=receiver.url, secrets=["whsec_" + "QUJD" * 8], active=True)
    for number in range(6):
        queue_messages(endpoint_keys=["crm-b"], event_type="contact.erased", data={"id": number}, at=timezone.now())

    delivering = threading.Thread(target=deliver)
    delivering.start()
    deadline = time.monotonic() + 10
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    configure_endpoint(key="crm-b", label="crm-b", url=receiver.url, secrets=["whsec_" + "QUJD" * 8], active=False)
    delivering.join(timeout=30)

    assert len(receiver.requests) == 1  # the try on its way when it was deactivated, and nothing after it
    left = OutboundMessage.objects.filter(status="pending", attempts=0)
    assert left.count() == 5
    assert all(message.next_attempt_at <= timezone.now() for message in left)  # released, not leased


def test_a_try_that_lands_after_its_message_was_cancelled_leaves_it_cancelled(receivers):
    from webhooks.outbound.http import TryResult

    configure_endpoint(key="k", label="k", url="https://k.example/", secrets=["whsec_" + "QUJD" * 8], active=True)
    queue_messages(endpoint_keys=["k"], event_type="contact.erased", data={"id": 1}, at=timezone.now())
    endpoint_id = OutboundMessage.objects.get().endpoint_id
    _endpoint, [message] = claim_due_messages(endpoint_id=endpoint_id, size=10)
    OutboundMessage.objects.update(status="cancelled")

    record_tries([TryOutcome(message=message, result=TryResult(204, "", 3), at=timezone.now())])

    assert OutboundMessage.objects.get().status == "cancelled"
    assert OutboundAttempt.objects.get().status_code == 204  # the try itself is in the log


def test_compliance_marks_every_undelivered_notice_of_a_deactivated_system_impossible_at_once(
    two_systems, admin_client
):
    billing, _warehouse = two_systems
    delivered = erase()
    deliver()
    waiting = [erase(), erase()]
    set_active("billing", False)
    system = DownstreamSystem.objects.get(name="billing")
    url = "/admin/contacts/downstreamsystem/"

    chosen = {"action": "mark_undelivered_impossible", "_selected_action": [system.pk]}
    page = admin_client.post(url, chosen).content.decode()
    assert "billing: 2 notices not delivered" in page
    admin_client.post(url, {**chosen, "post": "yes", "reason": "system_decommissioned"})

    assert entries(delivered)["billing"]["status"] == "delivered"
    for record in waiting:
        assert (entries(record)["billing"]["status"], entries(record)["billing"]["reason"]) == (
            "impossible", "system_decommissioned",
        )  # fmt: skip
        assert entries(record)["warehouse"]["status"] == "pending"
    assert set(OutboundMessage.objects.filter(endpoint__label="billing").values_list("status", flat=True)) == {
        "delivered", "cancelled",
    }  # fmt: skip
    assert len(billing.requests) == 1
