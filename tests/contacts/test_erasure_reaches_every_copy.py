"""The test of truth (spec, LGPD erasure): after an erasure, a full dump of the database holds none of the
person's data, while every other contact is untouched. Runs on SQLite and, in CI's second pass, PostgreSQL."""

import copy
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact, ErasureRecord
from contacts.services import sync
from tests.conftest import load_fixture
from tests.database_dump import found_in, full_dump
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db

ANA = {
    "external_id": "cont_ana",
    "names": ["Ana Conceição Ribeiro", "Ana Conceição"],
    "phones": ["+5547991234567", "5547991234567", "991234567", "+5547988887777", "988887777"],
    "emails": ["ana.conceicao@exemplo.com.br", "ana.nova@exemplo.com.br"],
    "tags": ["cliente-vip-ouro", "pagamento-pendente-ana"],
    "custom_values": ["Plano Diamante Familiar", "123.456.789-09"],
    "avatar": "https://cdn.exemplo.com.br/avatars/ana-conceicao.png",
    "notes": "Prefere contato à tarde",
}
BRUNO = {
    "external_id": "cont_bruno",
    "name": "Bruno Tavares Lima",
    "phone": "+5521987654321",
    "email": "bruno.tavares@exemplo.com.br",
    "tag": "lead-frio-bruno",
    "custom_value": "Plano Bronze Mensal",
}


def ana_values():
    return [*ANA["names"], *ANA["phones"], *ANA["emails"], *ANA["tags"], *ANA["custom_values"], ANA["avatar"],
            ANA["notes"]]  # fmt: skip


def created(external_id, *, event_id, name, phone, email, tags, custom_fields, avatar_url=None):
    payload = load_fixture("timely", "contact.created")
    payload["event_id"] = event_id
    payload["data"].update(contact_id=external_id, name=name, phone=phone, email=email, tags=tags,
                           custom_fields=custom_fields, avatar_url=avatar_url)  # fmt: skip
    return payload


def updated(external_id, *, event_id, changes, at="2026-04-19T15:10:00Z"):
    payload = load_fixture("timely", "contact.updated")
    payload["event_id"] = event_id
    payload["timestamp"] = at
    payload["data"].update(contact_id=external_id, changes=changes, updated_at=at)
    return payload


def deleted(external_id, *, event_id, name, phone, email):
    payload = load_fixture("timely", "contact.deleted")
    payload["event_id"] = event_id
    payload["data"].update(contact_id=external_id, name=name, phone=phone, email=email)
    return payload


def conversation(external_id, *, event_id, phone):
    payload = load_fixture("timely", "conversation.created")
    payload["event_id"] = event_id
    # A channel id that embeds the phone number: personal data too.
    payload["data"].update(contact_id=external_id, channel=f"whatsapp:{phone}")
    return payload


@pytest.fixture(params=["inline", "worker"])
def deliver(request, post_webhook, settings, run_worker_once):
    """POST a Timely event and have it applied: inline, or by a worker's batch."""
    settings.WEBHOOK_PROCESSING = request.param

    def send(payload):
        response = post_webhook("timely", copy.deepcopy(payload))
        assert response.status_code == 200, response.content
        if request.param == "worker":
            run_worker_once()
        return WebhookEvent.objects.get(pk=response.json()["event"])

    return send


def fail_unexpectedly(*args, **kwargs):
    raise RuntimeError("a bug of ours")


def build_history(deliver, admin_client, monkeypatch):
    """Everything we can hold about Ana (and Bruno, who stays): payloads, a failure, admin history."""
    bruno_fields = {"plano": BRUNO["custom_value"]}
    deliver(created(BRUNO["external_id"], event_id="evt_b1", name=BRUNO["name"], phone=BRUNO["phone"],
                    email=BRUNO["email"], tags=[BRUNO["tag"]], custom_fields=bruno_fields))  # fmt: skip
    deliver(created(ANA["external_id"], event_id="evt_a1", name=ANA["names"][1], phone=ANA["phones"][0],
                    email=ANA["emails"][0], tags=[ANA["tags"][0]], custom_fields={"plano": ANA["custom_values"][0]},
                    avatar_url=ANA["avatar"]))  # fmt: skip
    deliver(updated(ANA["external_id"], event_id="evt_a2", changes={
        "name": {"before": ANA["names"][1], "after": ANA["names"][0]},
        "phone": {"before": "(47) 99123-4567", "after": ANA["phones"][3]},
        "email": {"before": ANA["emails"][0], "after": ANA["emails"][1]},
        "tags": {"before": [ANA["tags"][0]], "after": ANA["tags"]},
        "custom_fields": {"before": {"plano": ANA["custom_values"][0]},
                          "after": {"plano": ANA["custom_values"][0], "cpf": ANA["custom_values"][1]}},
    }))  # fmt: skip
    with monkeypatch.context() as patch:
        # A failure of ours (values from outside are skipped, not failed): its payload is held too.
        patch.setattr(sync, "apply_fields", fail_unexpectedly)
        failed = deliver(updated(ANA["external_id"], event_id="evt_a3", at="2026-04-19T15:20:00Z", changes={
            "email": {"before": ANA["emails"][1], "after": 5547991234567},
        }))  # fmt: skip
    assert failed.status == WebhookEventStatus.FAILED
    deliver(conversation(ANA["external_id"], event_id="evt_a4", phone=ANA["phones"][1]))

    ana = Contact.objects.get(external_id=ANA["external_id"])
    bruno = Contact.objects.get(external_id=BRUNO["external_id"])
    for contact, notes in ((ana, f"{ANA['notes']} ({ANA['names'][0]})"), (bruno, "Retornar em maio")):
        response = admin_client.post(f"/admin/contacts/contact/{contact.pk}/change/", {"notes": notes})
        assert response.status_code == 302
    assert LogEntry.objects.filter(object_repr=ANA["names"][0]).exists()
    return ana, bruno


def test_after_erasure_a_full_dump_holds_none_of_the_persons_data(deliver, admin_client, monkeypatch):
    ana, bruno = build_history(deliver, admin_client, monkeypatch)
    bruno_before = Contact.objects.filter(pk=bruno.pk).values().get()
    dump = full_dump()
    assert found_in(dump, ana_values()) == sorted(set(ana_values()))  # the search does find them
    # The search column holds her folded name, a spelling no other column has: the erasure must reach it.
    assert "ana conceicao ribeiro" in dump and "Ana Conceição Ribeiro".casefold() in dump.casefold()

    deletion = deleted(ANA["external_id"], event_id="evt_a5", name=ANA["names"][0], phone=ANA["phones"][3],
                       email=ANA["emails"][1])  # fmt: skip
    deliver(deletion)
    late = deliver(updated(ANA["external_id"], event_id="evt_a6", at="2026-04-19T17:00:00Z", changes={
        "name": {"before": "", "after": ANA["names"][0]}, "tags": {"before": [], "after": ANA["tags"]},
    }))  # fmt: skip
    call_command("reprocess_webhook_events", "--status", "failed")

    dump = full_dump()
    assert found_in(dump, ana_values()) == []
    bruno_values = [BRUNO["name"], BRUNO["phone"], BRUNO["email"], BRUNO["tag"], BRUNO["custom_value"]]
    assert found_in(dump, bruno_values) == sorted(bruno_values)
    assert Contact.objects.filter(pk=bruno.pk).values().get() == bruno_before
    assert not WebhookEvent.objects.filter(external_id=BRUNO["external_id"], redacted_at__isnull=False).exists()

    assert (late.status, late.redacted_at) != (None, None)
    late.refresh_from_db()
    assert late.status == WebhookEventStatus.IGNORED and late.redacted_at is not None
    record = ErasureRecord.objects.get()
    assert (record.external_id, record.requested_by, record.requested_by_type) == ("cont_ana", "usr_321", "attendant")
    # created, updated, the failed update and the conversation; the deletion was never stored in full.
    assert record.redacted_events == 4


def test_rebuild_keeps_each_payloads_declared_fields_and_event_kind(deliver, admin_client, monkeypatch):
    build_history(deliver, admin_client, monkeypatch)
    originals = {e.event_id: e.payload for e in WebhookEvent.objects.filter(external_id=ANA["external_id"])}
    deliver(deleted(ANA["external_id"], event_id="evt_a5", name=ANA["names"][0], phone=ANA["phones"][3],
                    email=ANA["emails"][1]))  # fmt: skip

    for event in WebhookEvent.objects.filter(external_id=ANA["external_id"]).exclude(event_id="evt_a5"):
        original = originals[event.event_id]
        assert event.payload["event"] == original["event"]
        # The envelope's declared keys stay; of ``data`` a contact event keeps its declared keys, another
        # family (unpublished shape) none.
        assert set(event.payload) == set(original)
        if original["event"].startswith("contact."):
            assert event.payload["data"]["contact_id"] == ANA["external_id"]
            assert set(event.payload["data"]) <= set(original["data"])
        else:
            assert event.payload["data"] == {}
    update = WebhookEvent.objects.get(event_id="evt_a2").payload
    assert update["data"]["changes"] == "[redacted]"  # free-form: keys and values go
    assert update["data"]["updated_by"] == "usr_321"  # who changed it is staff, not the subject


def test_redaction_selects_rows_by_ids_never_by_matching_text(deliver, admin_client, monkeypatch):
    build_history(deliver, admin_client, monkeypatch)
    # Another contact who happens to share Ana's old email in a payload is not Ana: her rows stay.
    deliver(created("cont_homonym", event_id="evt_h1", name=ANA["names"][0], phone="+5511900000000",
                    email=ANA["emails"][0], tags=[], custom_fields={}))  # fmt: skip
    deliver(deleted(ANA["external_id"], event_id="evt_a5", name="x", phone="x", email="x"))
    homonym = WebhookEvent.objects.get(event_id="evt_h1")
    assert homonym.redacted_at is None
    assert homonym.payload["data"]["email"] == ANA["emails"][0]


def test_the_deletion_payload_is_stripped_before_it_is_ever_written(post_webhook):
    payload = deleted("cont_x", event_id="evt_d1", name="Zélia Quintanilha", phone="+5548999990000",
                      email="zelia.q@exemplo.com.br")  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        assert post_webhook("timely", payload).status_code == 200
    written = "\n".join(
        q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")
    )
    assert "contacts_erasurerecord" in written  # the whole erasure ran inside the capture
    assert found_in(written, ["Zélia Quintanilha", "+5548999990000", "5548999990000", "zelia.q@exemplo.com.br"]) == []
    assert json.loads(bytes(WebhookEvent.objects.get().body))["data"]["name"] == "[redacted]"
