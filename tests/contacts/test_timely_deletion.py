"""contact.deleted: the contact becomes a tombstone, its payloads are redacted, one record is appended."""

import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from contacts.models import Contact, ErasureRecord
from tests.conftest import load_fixture
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.providers.fields import REDACTED

pytestmark = pytest.mark.django_db

PERSON = ("Ana Costa", "ana.costa@exemplo.com.br", "5547991234567", "cliente-vip", 'data_contrato": "2026')


def deliver_history(post_webhook):
    for name in ("contact.created", "contact.updated", "contact.deleted"):
        assert post_webhook("timely", load_fixture("timely", name)).status_code == 200


def test_deletion_leaves_a_tombstone_with_only_ids(post_webhook):
    deliver_history(post_webhook)
    contact = Contact.objects.get()
    assert (contact.provider, contact.account_id, contact.external_id) == ("timely", "ws_abc123", "cont_456")
    assert contact.erased_at is not None
    for field in ("name", "phone", "email", "avatar_url", "source", "assigned_to", "notes", "status"):
        assert getattr(contact, field) == "", field
    assert (contact.tags, contact.custom_fields, contact.remote_created_at) == ([], {}, None)
    assert list(contact.field_versions) == ["_deleted"]


def test_deletion_writes_one_erasure_record_without_personal_data(post_webhook):
    deliver_history(post_webhook)
    record = ErasureRecord.objects.get()
    assert (record.provider, record.account_id, record.external_id) == ("timely", "ws_abc123", "cont_456")
    assert record.event_id == "evt_01HX5C5P4RHTW7ZBEPV9S2YEG"
    assert (record.requested_by, record.requested_by_type) == ("usr_321", "attendant")
    assert record.deleted_at.isoformat() == "2026-04-19T16:00:00+00:00"
    assert set(record.erased_fields) >= {"name", "phone", "email", "source", "tags", "custom_fields"}
    assert record.redacted_events == 2  # created and updated; the deletion was never stored in clear
    assert record.prev_hash == ErasureRecord.GENESIS_HASH
    assert record.hash == record.compute_hash()
    serialized = json.dumps([getattr(record, f) for f in ErasureRecord.HASHED_FIELDS], default=str)
    assert not any(value in serialized for value in PERSON)


def test_every_stored_payload_of_the_contact_is_rebuilt_from_its_declared_fields(post_webhook):
    deliver_history(post_webhook)
    for event in WebhookEvent.objects.all():
        raw = bytes(event.body).decode()
        assert not any(value in raw for value in PERSON), event.event_type
        assert event.redacted_at is not None
    updated = WebhookEvent.objects.get(event_type="contact.updated").payload
    assert updated["data"]["changes"] == REDACTED  # free-form: keys and values go
    assert updated["data"]["updated_by"] == "usr_321"  # not personal: kept for the audit
    assert updated["event_id"] == "evt_01HX5B3M2PGTS6YADOV8Q1XDF"


def test_deleted_payload_is_redacted_before_it_is_first_saved(post_webhook):
    sent_to_the_database = []

    def capture(execute, sql, params, many, context):
        sent_to_the_database.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        post_webhook("timely", load_fixture("timely", "contact.deleted"))
    inserts = [
        params
        for sql, params in sent_to_the_database
        if sql.replace('"', "").startswith("INSERT INTO webhooks_webhookevent ")
    ]
    assert len(inserts) == 1
    # psycopg gets bytes wrapped in Binary(...), sqlite3 as they are: unwrap both.
    values = [getattr(value, "obj", value) for value in inserts[0]]
    sent_bytes = [bytes(value) for value in values if isinstance(value, bytes | memoryview)]
    assert len(sent_bytes) == 1
    assert json.loads(sent_bytes[0])["data"]["deleted_by"] == "usr_321"
    everything_sent = repr(sent_to_the_database).encode() + sent_bytes[0]
    assert b"Ana" not in everything_sent and b"exemplo" not in everything_sent


def test_late_created_after_deletion_is_ignored_and_stored_redacted(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.deleted"))
    post_webhook("timely", load_fixture("timely", "contact.created"))
    post_webhook("timely", load_fixture("timely", "contact.updated"))
    contact = Contact.objects.get()
    assert contact.erased_at is not None and contact.name == ""
    for event_type in ("contact.created", "contact.updated"):
        event = WebhookEvent.objects.get(event_type=event_type)
        assert event.status == WebhookEventStatus.IGNORED
        assert event.status_reason == "contact was erased"
        assert b"Ana" not in bytes(event.body)


def test_same_tombstone_whatever_the_arrival_order(post_webhook):
    def tombstone(workspace, order):
        for name in order:
            payload = load_fixture("timely", name)
            payload.update(workspace_id=workspace, event_id=f"{payload['event_id']}_{workspace}")
            post_webhook("timely", payload)
        contact = Contact.objects.get(account_id=workspace)
        state = {f: getattr(contact, f) for f in ("name", "phone", "email", "tags", "custom_fields", "source")}
        return state, contact.field_versions["_deleted"][0], contact.erased_at is not None

    in_order = tombstone("ws_1", ["contact.created", "contact.updated", "contact.deleted"])
    reversed_order = tombstone("ws_2", ["contact.deleted", "contact.updated", "contact.created"])
    assert in_order == reversed_order
    assert in_order[2] is True


def test_deleting_an_unknown_contact_leaves_a_tombstone(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.deleted"))
    contact = Contact.objects.get()
    assert contact.erased_at is not None
    assert ErasureRecord.objects.get().erased_fields == []


def test_a_second_deletion_redacts_but_appends_no_second_record(post_webhook):
    deliver_history(post_webhook)
    again = load_fixture("timely", "contact.deleted")
    again["event_id"] = "evt_second_delete"
    post_webhook("timely", again)
    assert ErasureRecord.objects.count() == 1
    assert WebhookEvent.objects.get(event_id="evt_second_delete").status == WebhookEventStatus.IGNORED


def test_admin_history_naming_the_contact_is_rewritten(post_webhook, admin_user):
    post_webhook("timely", load_fixture("timely", "contact.created"))
    contact = Contact.objects.get()
    LogEntry.objects.log_actions(
        user_id=admin_user.pk, queryset=[contact], action_flag=CHANGE, change_message="Changed notes."
    )
    assert LogEntry.objects.get().object_repr == "Ana Costa"
    post_webhook("timely", load_fixture("timely", "contact.deleted"))
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Contact))
    assert entry.object_repr == f"Erased contact #{contact.pk}"


def test_erasure_records_form_a_chain(post_webhook):
    for index in range(3):
        payload = load_fixture("timely", "contact.deleted")
        payload["event_id"] = f"evt_del_{index}"
        payload["data"]["contact_id"] = f"cont_{index}"
        post_webhook("timely", payload)
    records = list(ErasureRecord.objects.order_by("sequence"))
    assert [r.sequence for r in records] == [1, 2, 3]
    assert records[1].prev_hash == records[0].hash
    assert records[2].prev_hash == records[1].hash
    assert all(r.hash == r.compute_hash() for r in records)
