"""The normalized event names contact fields only: a provider naming any other is a programming error that
building the ``ContactEvent`` reports, instead of the value vanishing in contacts."""

from datetime import UTC, datetime

import pytest

from contacts.models import LOCAL_FIELDS, Contact
from tests.conftest import load_fixture
from webhooks.events import CONTACT_FIELDS, ContactEvent, ContactEventKind, ContactSnapshot, UnknownContactFields
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.providers import timely

AT = datetime(2026, 4, 20, 9, tzinfo=UTC)


def event(**changes) -> ContactEvent:
    identity = {"provider": "timely", "account_id": "ws_1", "external_id": "c_1", "changed_at": AT, "dedupe_key": "e"}
    return ContactEvent(kind=ContactEventKind.UPDATED, **identity, **changes)


# The contact's columns that are neither synced nor edited by staff: its identity and sync bookkeeping.
BOOKKEEPING = {
    "id", "provider", "account_id", "external_id", "remote_updated_at", "field_versions", "needs_refresh",
    "refresh_attempts", "refresh_due_at", "erased_at", "created_at", "updated_at", "search_text",
}  # fmt: skip


def test_every_contact_column_is_synced_local_or_bookkeeping_exactly_once():
    """A new provider-owned column that nobody adds to the bridge's CONTACT_FIELDS fails here."""
    columns = [field.name for field in Contact._meta.concrete_fields]
    kinds = {name: [kind for kind, names in (("synced", CONTACT_FIELDS), ("local", LOCAL_FIELDS),
                                             ("bookkeeping", BOOKKEEPING)) if name in names]
             for name in columns}  # fmt: skip
    assert {name: found for name, found in kinds.items() if len(found) != 1} == {}
    assert set(CONTACT_FIELDS) <= set(columns) and len(set(CONTACT_FIELDS)) == len(CONTACT_FIELDS)


@pytest.mark.parametrize(
    "changes",
    [
        {"fields": {"name": "Ana", "nickname": "Aninha"}},
        {"previous": {"firstName": "Ana"}},
        {"unreadable": ("status", "colour")},
        {"fields": {"notes": "a local field, never synced"}},
    ],
)
def test_an_unknown_field_name_is_refused_where_the_event_is_built(changes):
    with pytest.raises(UnknownContactFields) as refused:
        event(**changes)
    # Names only: never a value from the payload.
    assert "Ana" not in str(refused.value) and "Aninha" not in str(refused.value)


def test_every_contact_field_may_be_set():
    built = event(fields=dict.fromkeys(CONTACT_FIELDS), previous=dict.fromkeys(CONTACT_FIELDS))
    assert set(built.fields) == set(CONTACT_FIELDS)


def test_a_fetchers_snapshot_keeps_only_contact_fields():
    snapshot = ContactSnapshot(fields={"name": "Maria", "firstName": "Maria", "notes": "theirs"}, as_of=AT)
    assert snapshot.fields == {"name": "Maria"}


@pytest.mark.django_db
def test_a_provider_that_names_an_unknown_field_fails_its_event_loudly(post_webhook, monkeypatch):
    # A provider bug: a payload key passed on under a name the contact does not have.
    monkeypatch.setattr(timely, "CONTACT_FIELDS", (*timely.CONTACT_FIELDS, "language"))
    payload = load_fixture("timely", "contact.created")
    payload["data"]["language"] = "pt-BR"

    assert post_webhook("timely", payload).status_code == 200  # stored whatever processing decides
    stored = WebhookEvent.objects.get()
    assert stored.status == WebhookEventStatus.FAILED
    assert "UnknownContactFields" in stored.status_reason
    assert "pt-BR" not in stored.status_reason
    assert not Contact.objects.exists()
