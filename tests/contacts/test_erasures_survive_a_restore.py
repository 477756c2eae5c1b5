"""Erasures survive a restore: the log exported off-site, an older dump restored, the erasures re-applied."""

import json
from io import StringIO

import pytest
from django.core import serializers
from django.core.management import CommandError, call_command
from django.db import connection

from contacts.models import Contact, ErasureRecord
from contacts.services import erase_on_request
from contacts.services.erasure_log import verify_erasure_log
from tests.database_dump import found_in, full_dump
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import ErasedSubject, WebhookEvent

pytestmark = pytest.mark.django_db
RESTORED_MODELS = (Contact, ErasureRecord, WebhookEvent, ErasedSubject)


def personal_event(contact):
    body = {"event": "contact.updated", "workspace_id": contact.account_id,
            "data": {"contact_id": contact.external_id, "name": contact.name, "email": contact.email,
                     "phone": contact.phone}}  # fmt: skip
    return WebhookEventFactory(
        account_id=contact.account_id, external_id=contact.external_id, body=json.dumps(body).encode()
    )


def backup() -> list:
    """Every row of the tables a restore brings back, exactly as stored (Django's python serializer keeps
    microseconds, which the erasure log's hashes cover)."""
    return [row for model in RESTORED_MODELS for row in serializers.serialize("python", model.objects.order_by("pk"))]


def restore(rows: list) -> None:
    """What restoring a backup does to these tables: their rows become the backup's again. The erasure log's
    append-only guard (a PostgreSQL trigger) is suspended for it, as a restore into a fresh database is not
    subject to it either."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        for model in reversed(RESTORED_MODELS):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608  (names from the models)
        for row in serializers.deserialize("python", rows):
            row.save()
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def erase_by_request(contact):
    return erase_on_request(contact=contact, requested_by="dpo", requested_by_type="admin", reference="DSR-1")


def test_an_older_dump_restored_brings_nobody_back(tmp_path):
    earlier = ContactFactory()
    erase_by_request(earlier)  # in the dump already: the restored log keeps it
    person = ContactFactory(name="Joana Prado", email="joana.prado@exemplo.com.br", phone="+5547998765432")
    personal_event(person)
    bystander = ContactFactory(name="Otávio Reis")
    dump = backup()

    erase_by_request(person)
    # Erased in the live database but never known to the dump: a tombstone only the export remembers.
    unknown = Contact.objects.create(provider="fpt", account_id="loc_9", external_id="c_77")
    erase_by_request(unknown)
    export = tmp_path / "erasures.json"
    call_command("export_erasure_log", "--output", str(export), stderr=StringIO())
    exported = export.read_text()
    assert found_in(exported, ["Joana Prado", "joana.prado@exemplo.com.br", "+5547998765432", "DSR-1", "dpo"]) == []

    restore(dump)
    assert Contact.objects.get(pk=person.pk).name == "Joana Prado"  # the backup brought the person back
    assert ErasureRecord.objects.count() == 1

    out, progress = StringIO(), StringIO()
    call_command("reapply_erasures", "--from", str(export), stdout=out, stderr=progress)
    assert "2 exported record(s) missing" in out.getvalue() and "erased 2 contact(s) again" in out.getvalue()
    # Progress in a log: whole lines, the last with the total and the rate.
    assert progress.getvalue().splitlines()[-1].startswith("re-applying erasures: 2/2 contacts")
    person = Contact.objects.get(pk=person.pk)
    assert person.is_erased and not person.personal_fields_held()
    assert Contact.objects.get(provider="fpt", external_id="c_77").is_erased
    assert ErasedSubject.objects.filter(external_id__in=[person.external_id, "c_77"]).count() == 2
    assert WebhookEvent.objects.get(external_id=person.external_id).redacted_at is not None
    assert Contact.objects.get(pk=bystander.pk).name == "Otávio Reis"
    assert found_in(full_dump(), ["Joana Prado", "joana.prado@exemplo.com.br", "+5547998765432"]) == []
    records = list(ErasureRecord.objects.order_by("sequence"))
    assert [r.sequence for r in records] == [1, 2, 3] and records[1].requested_by_type == "restore"
    # Why: a restore, naming the exported record it re-applies (the export itself holds no reason).
    assert [(r.reason, r.reference) for r in records[1:]] == [("restore", "RESTORE-2"), ("restore", "RESTORE-3")]
    assert verify_erasure_log().ok

    # Run twice (or by two operators): nothing more to do.
    call_command("reapply_erasures", "--from", str(export), stdout=out)
    assert ErasureRecord.objects.count() == 3


def test_a_contact_reactivated_since_the_export_is_left_alone(tmp_path):
    contact = ContactFactory(provider="fpt", account_id="loc_1")
    record = erase_on_request(contact=contact, requested_by="", requested_by_type="admin", reference="DSR-2")
    call_command("export_erasure_log", "--output", str(tmp_path / "before.json"), stderr=StringIO())
    document = json.loads((tmp_path / "before.json").read_text())
    assert document["records"][0]["erased_at_export"] is True and document["records"][0]["hash"] == record.hash
    Contact.objects.filter(pk=contact.pk).update(erased_at=None, name="Back Again")  # as a reactivation leaves it
    second = tmp_path / "after.json"
    call_command("export_erasure_log", "--output", str(second), stderr=StringIO())
    document = json.loads(second.read_text())
    assert document["records"][0]["erased_at_export"] is False
    document["records"][0]["hash"] = "f" * 64  # as if the restored log lacked it
    second.write_text(json.dumps(document))
    out = StringIO()
    call_command("reapply_erasures", "--from", str(second), stdout=out)
    assert "1 reactivated" in out.getvalue()
    assert Contact.objects.get(pk=contact.pk).name == "Back Again"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        ('{"document": "something else"}', "not an erasure log export"),
        ('{"document": "crm-sync erasure log export", "version": 2, "records": []}', "version 2"),
        ('{"document": "crm-sync erasure log export", "version": 1, "records": [{"sequence": 1}]}', "'provider'"),
        ('{"document": "crm-sync erasure log export", "version": 1, "records": [{"sequence": 1, "provider": "fpt",'
         ' "account_id": "a", "external_id": "b", "hash": "h", "deleted_at": "yesterday"}]}', "'deleted_at'"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_and_changes_nothing(tmp_path, content, message):
    ContactFactory()
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("reapply_erasures", "--from", str(path), stdout=StringIO())
    assert not ErasureRecord.objects.exists() and not Contact.objects.filter(erased_at__isnull=False).exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("reapply_erasures", "--from", str(tmp_path / "nope.json"), stdout=StringIO())
