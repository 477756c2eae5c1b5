"""Every system we shared a person with is told of their erasure, and the erasure's record proves it:
systems added with the command, messages verified by the receivers with the standardwebhooks library,
manual confirmations and the "impossible" path, the API's propagation field."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from standardwebhooks import Webhook

from contacts.models import DownstreamSystem, ErasurePropagation, ErasureRecord
from contacts.services.erasure import erase_on_request
from contacts.services.propagation import AlreadyAnswered, propagation_of, settle_propagation
from tests.contacts.test_erasure_reaches_every_copy import ANA, ana_values, build_history, deleted
from tests.database_dump import found_in, full_dump
from tests.factories import ContactFactory
from webhooks.outbound.dispatcher import OutboundDispatcher
from webhooks.outbound.models import OutboundMessage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasure_log_cleanup")]


def add_system(*args: str) -> str:
    out = io.StringIO()
    call_command("add_downstream_system", *args, stdout=out)
    return out.getvalue()


def statuses(record: ErasureRecord) -> dict[str, str]:
    return {entry["system"]: entry["status"] for entry in propagation_of([record])[record.pk]}


@pytest.fixture
def systems(receivers):
    billing, warehouse = receivers(), receivers(statuses=[503])
    printed = add_system("--name", "billing", "--url", billing.url)
    secret = printed.strip().splitlines()[-1]
    add_system("--name", "warehouse", "--url", warehouse.url)
    add_system("--name", "call-center spreadsheet", "--manual")
    return {"billing": billing, "warehouse": warehouse, "billing_secret": secret}


def test_an_erasure_started_here_lists_every_system_and_the_source_and_tells_the_webhook_ones(systems):
    contact = ContactFactory(name="Joana Prado", email="joana.prado@exemplo.com.br", phone="+5547991110000")
    record = erase_on_request(
        contact=contact,
        requested_by="dpo",
        requested_by_type="admin",
        reason="data_subject_request",
        reference="DSR-12",
    )

    assert statuses(record) == {
        "billing": "pending",
        "warehouse": "pending",
        "call-center spreadsheet": "awaiting_confirmation",
        "timely": "awaiting_confirmation",
    }
    assert systems["billing"].requests == []  # never delivered inside the erasure's request

    OutboundDispatcher(poll_seconds=0.2).deliver_due()

    assert statuses(record)["billing"] == "delivered" and statuses(record)["warehouse"] == "pending"
    [request] = systems["billing"].requests
    payload = Webhook(systems["billing_secret"]).verify(request.body, request.headers)
    assert payload["type"] == "contact.erased"
    assert payload["data"] == {
        "id": contact.pk, "provider": "timely", "account_id": contact.account_id,
        "external_id": contact.external_id, "erased_at": record.erased_at.isoformat().replace("+00:00", "Z"),
        "erasure_id": record.pk,
    }  # fmt: skip
    assert systems["warehouse"].requests[0].headers["webhook-id"] == request.headers["webhook-id"]
    for value in ("Joana", "Prado", "joana.prado", "991110000"):
        assert value not in request.body.decode()


def test_a_providers_own_deletion_has_no_source_task_and_inactive_webhook_systems_are_not_told(systems, post_webhook):
    DownstreamSystem.objects.filter(name="warehouse").update(active=False)
    from tests.conftest import load_fixture

    payload = load_fixture("timely", "contact.deleted")
    assert post_webhook("timely", payload).status_code == 200
    record = ErasureRecord.objects.get()
    assert statuses(record) == {"billing": "pending", "call-center spreadsheet": "awaiting_confirmation"}
    assert OutboundMessage.objects.filter(endpoint__label="warehouse").count() == 0


def test_messages_are_written_in_the_erasures_transaction(systems):
    contact = ContactFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        erase_on_request(
            contact=contact,
            requested_by="dpo",
            requested_by_type="admin",
            reason="data_subject_request",
            reference="DSR-13",
        )
        raise RuntimeError("the erasure's transaction fails later")
    assert not OutboundMessage.objects.exists() and not ErasurePropagation.objects.exists()


def test_manual_notices_are_confirmed_once_or_marked_impossible_with_a_listed_reason(systems):
    record = erase_on_request(
        contact=ContactFactory(),
        requested_by="dpo",
        requested_by_type="admin",
        reason="data_subject_request",
        reference="DSR-1",
    )
    spreadsheet = ErasurePropagation.objects.get(erasure=record, system_name="call-center spreadsheet")
    source = ErasurePropagation.objects.get(erasure=record, kind="source")

    settle_propagation(spreadsheet, by="maria", status="confirmed")
    with pytest.raises(AlreadyAnswered):
        settle_propagation(spreadsheet, by="joao", status="impossible", reason="disproportionate_effort")
    with pytest.raises(ValueError):
        settle_propagation(source, by="maria", status="impossible", reason="because I say so")
    settle_propagation(source, by="maria", status="impossible", reason="disproportionate_effort")

    entries = {entry["system"]: entry for entry in propagation_of([record])[record.pk]}
    assert (entries["call-center spreadsheet"]["status"], entries["call-center spreadsheet"]["by"]) == (
        "confirmed",
        "maria",
    )
    assert entries["call-center spreadsheet"]["at"] is not None
    assert (entries["timely"]["status"], entries["timely"]["reason"]) == ("impossible", "disproportionate_effort")
    webhook_entry = ErasurePropagation.objects.get(erasure=record, system_name="billing")
    with pytest.raises(ValueError):
        settle_propagation(webhook_entry, by="maria", status="confirmed")


def test_removing_a_system_keeps_the_records_list_of_who_was_told(systems):
    record = erase_on_request(
        contact=ContactFactory(),
        requested_by="dpo",
        requested_by_type="admin",
        reason="data_subject_request",
        reference="DSR-2",
    )
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    from contacts.services.downstream import remove_downstream_system

    remove_downstream_system(DownstreamSystem.objects.get(name="billing"))
    assert statuses(record)["billing"] == "delivered"


def test_the_api_lists_each_erasures_propagation(systems, admin_client):
    record = erase_on_request(
        contact=ContactFactory(),
        requested_by="dpo",
        requested_by_type="admin",
        reason="data_subject_request",
        reference="DSR-3",
    )
    OutboundDispatcher(poll_seconds=0.2).deliver_due()

    listed = admin_client.get("/api/erasures/").json()["results"][0]["propagation"]
    detail = admin_client.get(f"/api/erasures/{record.pk}/").json()["propagation"]
    assert listed == detail
    by_system = {entry["system"]: entry for entry in detail}
    assert set(by_system) == {"billing", "warehouse", "call-center spreadsheet", "timely"}
    assert by_system["billing"]["status"] == "delivered" and by_system["billing"]["at"].endswith("Z")
    assert by_system["warehouse"]["status"] == "pending" and by_system["warehouse"]["at"] is not None
    assert by_system["timely"] == {"system": "timely", "status": "awaiting_confirmation", "at": None}


def test_the_command_refuses_bad_input_plainly(receivers):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="whsec_"):
        add_system("--name", "x", "--url", "https://x.example/hook", "--secret", "plain-password")
    with pytest.raises(CommandError, match="URL"):
        add_system("--name", "x", "--url", "javascript:alert(1)")
    add_system("--name", "x", "--manual")
    with pytest.raises(CommandError, match="exists already"):
        add_system("--name", "x", "--manual")
    out = add_system("--name", "y", "--url", "https://y.example/hook", "--secret", "whsec_" + "QUJD" * 8)
    assert "whsec_" not in out  # a given secret is never printed back
    assert json.loads(json.dumps(DownstreamSystem.objects.get(name="y").secrets)) == ["whsec_" + "QUJD" * 8]


def test_after_propagation_a_full_dump_holds_none_of_the_persons_values(systems, deliver, admin_client, monkeypatch):
    ana, _bruno = build_history(deliver, admin_client, monkeypatch)
    deliver(deleted(ANA["external_id"], event_id="evt_a5", name=ANA["names"][0], phone=ANA["phones"][3],
                    email=ANA["emails"][1]))  # fmt: skip
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    call_command("replay_outbound_messages", "--system", "warehouse", stdout=io.StringIO())
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    settle_propagation(ErasurePropagation.objects.get(kind="manual"), by="dpo", status="confirmed")

    assert statuses(ErasureRecord.objects.get()) == {
        "billing": "delivered", "warehouse": "pending", "call-center spreadsheet": "confirmed"
    }  # fmt: skip
    assert found_in(full_dump(), ana_values()) == []
    received = b" ".join(r.body for r in systems["billing"].requests + systems["warehouse"].requests).decode()
    assert found_in(received, ana_values()) == []
