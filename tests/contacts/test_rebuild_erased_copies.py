"""``rebuild_erased_copies``: copies of erased contacts stored under the old redaction rule (keys kept,
headers kept, ids as sent) are rebuilt by today's rule, counted per table and column; a second run
changes nothing."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from config.erased_ids import stored_id
from contacts.models import Contact, ErasureRecord
from contacts.services.erasure_log import append_erasure_record, verify_erasure_log
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import ErasedSubject, WebhookEvent

pytestmark = pytest.mark.django_db

NAME, EMAIL = "Maria Souza", "maria.souza@exemplo.com.br"
OLD_REDACTED = {
    "event": "contact.updated", "event_id": "evt maria", "timestamp": "2026-04-19T15:10:00-03:00",
    "workspace_id": "ws_abc123",
    "data": {"contact_id": NAME, "changes": {EMAIL: {"before": "[redacted]", "after": "[redacted]"}},
             "custom_fields": {NAME: "[redacted]"}, "source": "[redacted]", "updated_by": "usr_1"},
}  # fmt: skip
OLD_HEADERS = {"Content-Type": "application/json", "User-Agent": f"{NAME}'s phone", "X-Request-Id": EMAIL}


def rebuild() -> str:
    out = StringIO()
    call_command("rebuild_erased_copies", stdout=out)
    return out.getvalue()


@pytest.fixture
def erased_before_the_rule():
    """A contact erased under the old rule: its tombstone, its events and its record keep its ids as sent."""
    now = timezone.now()
    tombstone = ContactFactory(external_id=NAME, erased=True)
    tombstone.field_versions = {"_deleted": ["2026-04-19T16:00:00.000000Z", "evt maria del"]}
    tombstone.save()
    ErasedSubject.objects.create(provider="timely", account_id="ws_abc123", external_id=NAME)
    redacted = WebhookEventFactory(
        external_id=NAME, dedupe_key="evt maria", event_id="evt maria", event_type="contact.updated",
        body=json.dumps(OLD_REDACTED).encode(), headers=OLD_HEADERS, redacted_at=now,
    )  # fmt: skip
    purged = WebhookEventFactory(external_id=NAME, body=None, headers=OLD_HEADERS, redacted_at=now)
    append_erasure_record(
        provider="timely", account_id="ws_abc123", external_id=NAME, contact=tombstone, event_id="evt maria del",
        requested_by="usr_1", requested_by_type="attendant", erased_at=now, reason="provider_deletion",
    )  # fmt: skip
    return tombstone, redacted, purged


def test_every_copy_is_rebuilt_and_counted_per_table_and_column(erased_before_the_rule):
    tombstone, redacted, purged = erased_before_the_rule
    bystander = WebhookEventFactory(external_id="cont_live", headers=OLD_HEADERS)
    bystander_row = WebhookEvent.objects.filter(pk=bystander.pk).values().get()

    report = rebuild()

    tombstone.refresh_from_db()
    assert tombstone.external_id == stored_id(NAME)
    assert tombstone.field_versions == {"_deleted": ["2026-04-19T16:00:00.000000Z", stored_id("evt maria del")]}
    assert ErasedSubject.objects.get().external_id == stored_id(NAME)
    redacted.refresh_from_db()
    assert (redacted.external_id, redacted.dedupe_key) == (stored_id(NAME), stored_id("evt maria"))
    assert redacted.headers == {"Content-Type": "application/json", "X-Request-Id": stored_id(EMAIL)}
    data = redacted.payload["data"]
    assert data == {"contact_id": stored_id(NAME), "changes": "[redacted]", "custom_fields": "[redacted]",
                    "source": "[redacted]", "updated_by": "usr_1"}  # fmt: skip
    assert redacted.payload["timestamp"] == "2026-04-19T18:10:00.000000Z"
    purged.refresh_from_db()
    assert purged.body is None and "User-Agent" not in purged.headers
    for row in WebhookEvent.objects.exclude(pk=bystander.pk):
        assert NAME not in json.dumps(row.headers) and NAME.encode() not in bytes(row.body or b"")
    assert WebhookEvent.objects.filter(pk=bystander.pk).values().get() == bystander_row

    for line in (
        "contacts_contact.external_id: 1",
        "contacts_contact.field_versions: 1",
        "webhooks_erasedsubject.ids: 1",
        "webhooks_webhookevent.body: 1",
        "webhooks_webhookevent.headers: 2",
        "webhooks_webhookevent.external_id: 2",
        "webhooks_webhookevent.dedupe_key: 1",
        # The erasure log is append-only: what it recorded before the rule is reported, not rewritten.
        "contacts_erasurerecord.external_id (append-only, left as recorded): 1",
        "contacts_erasurerecord.event_id (append-only, left as recorded): 1",
    ):
        assert line in report.splitlines(), report
    assert ErasureRecord.objects.get().external_id == NAME


def test_a_second_run_changes_nothing(erased_before_the_rule):
    rebuild()
    rows = list(WebhookEvent.objects.values())
    assert rebuild().splitlines()[-1] == "0 value(s) rebuilt"
    assert list(WebhookEvent.objects.values()) == rows


def test_a_live_contacts_copies_are_not_touched():
    live = WebhookEventFactory(external_id="Carla Dias", headers=OLD_HEADERS)
    before = WebhookEvent.objects.filter(pk=live.pk).values().get()
    assert rebuild().splitlines()[-1] == "0 value(s) rebuilt"
    assert WebhookEvent.objects.filter(pk=live.pk).values().get() == before
    assert not Contact.objects.exists()


def test_reapply_erasures_rebuilds_the_restored_copies_too(erased_before_the_rule, tmp_path):
    export = tmp_path / "erasures.json"
    out = StringIO()
    call_command("export_erasure_log", stdout=out)
    export.write_text(out.getvalue(), encoding="utf-8")
    out = StringIO()
    call_command("reapply_erasures", "--from", str(export), stdout=out)
    assert "rebuilt webhooks_webhookevent.body: 1" in out.getvalue().splitlines()


class TestErasureRecordsMadeBeforeTheRule:
    """docs/erasure-rules.md › Erasure records made before the rule: they keep the ids they recorded."""

    def test_they_are_counted_per_record_left_as_recorded_and_the_chain_still_verifies(self, erased_before_the_rule):
        tombstone, _redacted, _purged = erased_before_the_rule
        record = ErasureRecord.objects.get()
        # A second erasure of the same id, recorded after the rule: its digest, not counted.
        append_erasure_record(
            provider="timely", account_id="ws_abc123", external_id=stored_id(NAME), contact=tombstone,
            event_id=stored_id("evt maria del 2"), requested_by="usr_1", requested_by_type="attendant",
            erased_at=timezone.now(), reason="provider_deletion",
        )  # fmt: skip
        before = list(ErasureRecord.objects.order_by("sequence").values())

        report = rebuild().splitlines()

        assert "contacts_erasurerecord.external_id (append-only, left as recorded): 1" in report
        assert "contacts_erasurerecord.event_id (append-only, left as recorded): 1" in report
        assert not any(line.startswith("contacts_erasurerecord.account_id") for line in report)
        assert list(ErasureRecord.objects.order_by("sequence").values()) == before
        assert ErasureRecord.objects.get(pk=record.pk).external_id == NAME
        assert verify_erasure_log(full=True).ok
        # The count is a report, not a change: a second run reports the same records and changes nothing.
        again = rebuild().splitlines()
        assert "contacts_erasurerecord.external_id (append-only, left as recorded): 1" in again
        assert again[-1] == "0 value(s) rebuilt"

    def test_the_admin_finds_them_and_later_ones_by_the_id_as_sent(self, erased_before_the_rule, admin_client):
        tombstone, _redacted, _purged = erased_before_the_rule
        rebuild()
        old = ErasureRecord.objects.get()
        new = append_erasure_record(
            provider="timely", account_id="ws_abc123", external_id=stored_id(NAME), contact=tombstone,
            requested_by="admin", requested_by_type="admin", erased_at=timezone.now(), reason="data_subject_request",
        )  # fmt: skip

        listing = admin_client.get("/admin/contacts/erasurerecord/", {"q": NAME})

        assert sorted(row.pk for row in listing.context["cl"].result_list) == sorted([old.pk, new.pk])

    @pytest.mark.postgres
    def test_postgresql_refuses_to_rewrite_a_recorded_id_to_its_digest(self, erased_before_the_rule):
        record = ErasureRecord.objects.get()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE contacts_erasurerecord SET external_id = %s WHERE id = %s", [stored_id(NAME), record.pk]
            )
        assert ErasureRecord.objects.get().external_id == NAME
