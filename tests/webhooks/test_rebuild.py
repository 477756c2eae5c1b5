"""Rebuild, don't redact: what a stored copy about an erased contact keeps is declared per provider
(``webhooks.providers.schema``); keys, headers, ids and times of the person's do not survive."""

import json

import pytest

from config.values.erased_ids import DIGEST_PREFIX, stored_id
from contacts.models import Contact, ErasureRecord
from tests.conftest import load_fixture
from tests.database_dump import found_in, full_dump
from webhooks.models import ErasedSubject, WebhookEvent
from webhooks.providers import get_provider
from webhooks.providers.schema import MARKER

pytestmark = pytest.mark.django_db

PERSON = {"name": "Zuleica Brandão", "email": "zuleica.brandao+crm@exemplo.com.br", "phone": "+55 (11) 98765-4321"}


def timely(event: str, **data) -> dict:
    payload = load_fixture("timely", event)
    payload["data"].update(data)
    return payload


def test_keys_of_free_form_objects_and_undeclared_keys_go_with_their_values():
    payload = timely(
        "contact.created",
        custom_fields={PERSON["email"]: {PERSON["name"]: PERSON["phone"]}},
        **{PERSON["name"]: "x", "nested": {PERSON["email"]: 1}},
    )
    rebuilt = get_provider("timely").rebuilt_body(payload, event_type="contact.created").decode()
    assert not any(value in rebuilt for value in PERSON.values())
    data = json.loads(rebuilt)["data"]
    assert data["custom_fields"] == data["name"] == data["email"] == MARKER
    assert "nested" not in data and data["contact_id"] == "cont_456" and data["source"] == "whatsapp"


@pytest.mark.parametrize(
    ("key", "value", "survives"),
    [
        ("source", PERSON["name"], MARKER),  # outside its enum
        ("source", "instagram", "instagram"),
        ("assigned_to", PERSON["email"], stored_id(PERSON["email"])),  # an id not in plain form: its digest
        ("assigned_to", "usr_9", "usr_9"),
        ("created_at", PERSON["name"], MARKER),  # a time that does not parse
        ("created_at", "2026-04-19T11:30:00-03:00", "2026-04-19T14:30:00.000000Z"),  # written again, in UTC
        ("contact_id", 42, 42),
    ],
)
def test_every_declared_value_passes_its_validator_or_does_not_survive(key, value, survives):
    rebuilt = json.loads(
        get_provider("timely").rebuilt_body(timely("contact.created", **{key: value}), event_type="contact.created")
    )
    assert rebuilt["data"][key] == survives


def test_an_id_not_in_plain_form_is_stored_as_its_keyed_digest_from_the_start(post_webhook):
    payload = {**timely("contact.created", contact_id=PERSON["email"]), "event_id": PERSON["name"]}
    assert post_webhook("timely", payload).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.external_id == stored_id(PERSON["email"]) and event.external_id.startswith(DIGEST_PREFIX)
    assert event.event_id == event.dedupe_key == stored_id(PERSON["name"])
    assert Contact.objects.get().external_id == event.external_id
    # The same delivery again is still recognised, without the text.
    again = post_webhook("timely", payload)
    assert again.json() == {"status": "duplicate", "event": event.pk}


def test_plain_ids_are_kept_as_sent(post_webhook):
    post_webhook("timely", timely("contact.created"))
    event = WebhookEvent.objects.get()
    assert (event.external_id, event.account_id, event.event_id) == (
        "cont_456",
        "ws_abc123",
        "evt_01HX5A1K9MFQR4YZDNV7P9WCE",
    )


def test_an_erasure_rebuilds_the_stored_headers_from_their_allowlist(post_webhook):
    person_headers = {"User-Agent": f"Bot of {PERSON['name']}", "X-Request-Id": PERSON["email"]}
    post_webhook("timely", timely("contact.created"), headers=person_headers)
    assert WebhookEvent.objects.get().headers["User-Agent"] == person_headers["User-Agent"]  # kept until erased

    post_webhook("timely", timely("contact.deleted"), headers=person_headers)

    for event in WebhookEvent.objects.all():
        assert set(event.headers) <= {"Content-Type", "Content-Length", "X-Request-Id", "X-Timely-Timestamp"}
        assert event.headers["Content-Type"] == "application/json"
        assert event.headers["Content-Length"].isdigit() and event.headers["X-Timely-Timestamp"].isdigit()
        assert event.headers["X-Request-Id"] == stored_id(PERSON["email"])
    assert found_in(full_dump(), [PERSON["name"], PERSON["email"]]) == []


def test_a_late_event_naming_an_erased_contact_is_stored_rebuilt_headers_and_all(post_webhook):
    ErasedSubject.objects.create(provider="timely", account_id="ws_abc123", external_id="cont_456")
    payload = {**timely("contact.updated"), "event": "contact.updated"}
    payload["data"]["changes"] = {PERSON["email"]: {"before": None, "after": PERSON["name"]}}
    post_webhook("timely", payload, headers={"User-Agent": PERSON["name"], "Content-Type": PERSON["email"]})
    event = WebhookEvent.objects.get()
    assert event.redacted_at is not None and event.payload["data"]["changes"] == MARKER
    assert "User-Agent" not in event.headers and "Content-Type" not in event.headers
    assert found_in(full_dump(), PERSON.values()) == []


def test_an_event_type_not_in_plain_form_is_kept_only_as_its_digest_once_its_contact_is_erased(post_webhook):
    odd = {**load_fixture("timely", "conversation.created"), "event": f"chat with {PERSON['name']}"}
    post_webhook("timely", odd)
    post_webhook("timely", timely("contact.deleted"))
    event = WebhookEvent.objects.get(event_id=odd["event_id"])
    assert event.event_type == stored_id(odd["event"]) and event.payload["data"] == {}
    assert event.status_reason == f"event type {event.event_type} is not applied"
    assert found_in(full_dump(), [PERSON["name"]]) == []


def test_the_erasure_record_and_tombstone_of_a_contact_known_by_a_non_plain_id_hold_only_its_digest(post_webhook):
    post_webhook("timely", timely("contact.created", contact_id=PERSON["phone"]))
    post_webhook("timely", {**timely("contact.deleted", contact_id=PERSON["phone"]), "event_id": PERSON["email"]})
    record = ErasureRecord.objects.get()
    assert (record.external_id, record.event_id) == (stored_id(PERSON["phone"]), stored_id(PERSON["email"]))
    assert Contact.objects.get().external_id == stored_id(PERSON["phone"])
    assert found_in(full_dump(), PERSON.values()) == []
