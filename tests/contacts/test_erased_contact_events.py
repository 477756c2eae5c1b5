"""While a contact is erased, every later event of any type and any provider that names it is stored already
redacted; the erasure itself redacts every stored event of the contact, whatever its type. Only a newer
state fetched after an FPT reactivation makes its new events stored as received again."""

import json
from datetime import timedelta

import pytest

from contacts import services
from contacts.models import Contact
from tests.conftest import load_fixture
from tests.contacts.fpt_events import BASE_TIME, fpt_event, status_change
from tests.database_dump import found_in, full_dump
from tests.factories import WebhookEventFactory
from webhooks.events import ContactSnapshot
from webhooks.models import ErasedSubject, WebhookEvent, WebhookEventStatus
from webhooks.processing import process_events

pytestmark = pytest.mark.django_db

MEMBER = {"name": "Maria Eduarda Quintanilha", "email": "maria.quintanilha@exemplo.com.br",
          "note": "Lesão no joelho esquerdo, evitar agachamento"}  # fmt: skip
KEY = ("fpt", "48213", "9917342")


def other_family(event_type: str, *, at: float, **data):
    """An FPT event of an undocumented family, in the envelope every FPT event has."""
    return {**fpt_event("contact.updated", at=at), "eventType": event_type, "data": data}


def note(*, at: float, contact=9917342):
    return other_family("note.created", at=at, contactId=contact, body=MEMBER["note"])


def appointment(*, at: float, contact=9917342):
    # Other families name the member too, perhaps by the digits of its id.
    return other_family("appointment.booked", at=at, contactId=str(contact), memberName=MEMBER["name"], slot=4)


def status_change_with_email(*, at: float):
    return status_change(3, previous=2, at=at, email=MEMBER["email"])


def delivered(post_webhook, provider, payload) -> WebhookEvent:
    response = post_webhook(provider, payload)
    assert response.status_code == 200, response.content
    return WebhookEvent.objects.get(pk=response.json()["event"])


def member():
    return Contact.objects.get(provider="fpt", account_id="48213", external_id="9917342")


@pytest.mark.parametrize("late_event", [note, appointment, status_change_with_email])
def test_after_an_fpt_deletion_later_events_of_any_type_are_stored_redacted(post_webhook, late_event):
    delivered(post_webhook, "fpt", fpt_event("contact.deleted", at=10))
    late = delivered(post_webhook, "fpt", late_event(at=20))
    assert late.redacted_at is not None
    assert late.status in (WebhookEventStatus.IGNORED, WebhookEventStatus.PROCESSED)
    # A contact event keeps its declared ids and codes; another family's data is unpublished: none of it stays.
    data = late.payload["data"]
    if late.event_type.startswith("contact."):
        assert data["contactId"] == 9917342 and "email" not in data
    else:
        assert data == {}
    assert late.external_id == "9917342"
    assert found_in(full_dump(), MEMBER.values()) == []


def test_the_fpt_erasure_redacts_every_stored_event_of_the_member_whatever_its_type(post_webhook):
    before = [delivered(post_webhook, "fpt", make(at=1)) for make in (note, appointment, status_change_with_email)]
    assert all(event.redacted_at is None for event in before)
    assert found_in(full_dump(), MEMBER.values()) == sorted(MEMBER.values())  # the search does find them

    delivered(post_webhook, "fpt", fpt_event("contact.deleted", at=10))

    for event in before:
        event.refresh_from_db()
        assert event.redacted_at is not None
    assert WebhookEvent.objects.get(pk=before[0].pk).payload["data"] == {}  # another family: undeclared
    assert member().erasures.get().redacted_events == 3
    assert found_in(full_dump(), MEMBER.values()) == []


def test_after_a_timely_deletion_a_message_naming_the_contact_is_stored_redacted(post_webhook):
    delivered(post_webhook, "timely", load_fixture("timely", "contact.deleted"))
    message = {"event": "message.received", "event_id": "evt_msg_1", "timestamp": "2026-04-19T17:00:00Z",
               "workspace_id": "ws_abc123",
               "data": {"contact_id": "cont_456", "text": MEMBER["note"], "from": "+5547991234567"}}  # fmt: skip
    late = delivered(post_webhook, "timely", message)
    assert (late.status, late.external_id) == (WebhookEventStatus.IGNORED, "cont_456")
    assert late.redacted_at is not None
    assert found_in(full_dump(), [MEMBER["note"], "+5547991234567"]) == []


def test_an_ignored_event_stored_while_its_contact_was_being_erased_is_redacted_when_processed():
    # Stored as received (the erasure had not committed at the INSERT), processed after it committed.
    ErasedSubject.objects.create(provider="fpt", account_id="48213", external_id="9917342")
    raced = WebhookEventFactory(
        provider="fpt", event_type="note.created", account_id="48213", external_id="9917342",
        body=f'{{"eventType": "note.created", "data": {{"contactId": 9917342, "body": "{MEMBER["note"]}"}}}}'.encode(),
        occurred_at=BASE_TIME,
    )  # fmt: skip
    assert process_events([raced.pk])[raced.pk] == WebhookEventStatus.IGNORED
    raced.refresh_from_db()
    assert raced.redacted_at is not None and raced.payload["data"] == {}


@pytest.mark.parametrize("transient", [False, True], ids=["failed", "retrying"])
def test_a_failing_event_stored_while_its_contact_was_being_erased_is_redacted_all_the_same(monkeypatch, transient):
    # Whatever processing makes of it (failed, or due again after a backoff), it keeps no personal data.
    from django.db import OperationalError

    from webhooks.providers.fpt import FitProTrackerProvider

    def broken(self, delivery):
        raise OperationalError("lost") if transient else RuntimeError("a bug of ours")

    monkeypatch.setattr(FitProTrackerProvider, "interpret", broken)
    ErasedSubject.objects.create(provider="fpt", account_id="48213", external_id="9917342")
    raced = WebhookEventFactory(
        provider="fpt", event_type="contact.status_changed", account_id="48213", external_id="9917342",
        body=json.dumps({"eventType": "contact.status_changed",
                         "data": {"contactId": 9917342, "email": MEMBER["email"]}}).encode(),
        occurred_at=BASE_TIME,
    )  # fmt: skip
    expected = WebhookEventStatus.RECEIVED if transient else WebhookEventStatus.FAILED
    assert process_events([raced.pk])[raced.pk] == expected
    raced.refresh_from_db()
    assert raced.redacted_at is not None and raced.payload["data"] == {"contactId": 9917342}
    assert found_in(full_dump(), [MEMBER["email"]]) == []


@pytest.mark.parametrize(
    ("provider", "payload"),
    [
        ("fpt", other_family("note.created", at=1, contactId={"id": 9917342, "name": MEMBER["name"]},
                             body=MEMBER["note"])),
        ("timely", {"event": "message.received", "event_id": "evt_msg_2", "timestamp": "2026-04-19T17:00:00Z",
                    "workspace_id": "ws_abc123", "data": {"contact_id": {"id": "cont_456", "name": MEMBER["name"]},
                                                          "text": MEMBER["note"]}}),
    ],
)  # fmt: skip
def test_an_event_naming_its_contact_by_an_unreadable_id_is_stored_redacted(post_webhook, provider, payload):
    # No erasure could find it by id later: it is never saved in full.
    event = delivered(post_webhook, provider, payload)
    assert (event.external_id, event.status) == ("", WebhookEventStatus.IGNORED)
    assert event.redacted_at is not None
    assert found_in(full_dump(), MEMBER.values()) == []


def test_an_fpt_event_of_another_family_links_its_member_by_the_digits_of_the_id(post_webhook):
    event = delivered(post_webhook, "fpt", other_family("note.created", at=1, contactId="9917342", body="x"))
    assert (event.account_id, event.external_id, event.redacted_at) == ("48213", "9917342", None)
    unlinked = delivered(post_webhook, "fpt", other_family("note.created", at=2, contactId="99-17", body="x"))
    assert (unlinked.external_id, unlinked.redacted_at is not None) == ("", True)


def test_events_of_other_contacts_are_stored_as_received(post_webhook):
    delivered(post_webhook, "fpt", fpt_event("contact.deleted", at=10))
    other = delivered(post_webhook, "fpt", note(at=20, contact=1234))
    assert other.redacted_at is None and other.payload["data"]["body"] == MEMBER["note"]


class TestReactivation:
    def test_reactivated_member_is_stored_redacted_until_a_newer_state_is_fetched(self, post_webhook):
        delivered(post_webhook, "fpt", fpt_event("contact.deleted", at=10))
        delivered(post_webhook, "fpt", fpt_event("contact.updated", at=20))  # reactivated upstream
        assert member().is_erased and member().needs_refresh
        assert delivered(post_webhook, "fpt", note(at=30)).redacted_at is not None

    def test_after_a_newer_fetched_state_brings_the_member_back_new_events_are_stored_as_received(
        self, post_webhook, fake_fetcher
    ):
        fake_fetcher.states[KEY] = ContactSnapshot(fields={"name": "Maria"}, as_of=BASE_TIME + timedelta(seconds=20))
        delivered(post_webhook, "fpt", fpt_event("contact.deleted", at=10))
        earlier = delivered(post_webhook, "fpt", note(at=15))
        delivered(post_webhook, "fpt", fpt_event("contact.updated", at=20))
        assert member().erased_at is None and member().name == "Maria"
        assert not ErasedSubject.objects.exists()

        later = delivered(post_webhook, "fpt", note(at=30))
        assert later.redacted_at is None and later.payload["data"]["body"] == MEMBER["note"]
        earlier.refresh_from_db()
        assert earlier.redacted_at is not None  # what arrived while erased stays redacted

    def test_a_fetched_state_older_than_the_deletion_keeps_events_redacted(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = ContactSnapshot(fields={"name": "Maria"}, as_of=BASE_TIME + timedelta(seconds=5))
        delivered(post_webhook, "fpt", fpt_event("contact.deleted", at=10))
        delivered(post_webhook, "fpt", fpt_event("contact.updated", at=20))
        assert member().is_erased
        assert ErasedSubject.objects.filter(provider="fpt").exists()
        assert delivered(post_webhook, "fpt", note(at=30)).redacted_at is not None

    def test_an_erasure_after_the_reactivation_redacts_again(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = ContactSnapshot(fields={"name": "Maria"}, as_of=BASE_TIME + timedelta(seconds=20))
        delivered(post_webhook, "fpt", fpt_event("contact.deleted", at=10))
        delivered(post_webhook, "fpt", fpt_event("contact.updated", at=20))
        services.erase_on_request(contact=member(), requested_by="dpo", requested_by_type="cli", reference="DSR-1")
        assert delivered(post_webhook, "fpt", note(at=40)).redacted_at is not None
