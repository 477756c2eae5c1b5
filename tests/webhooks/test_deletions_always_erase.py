"""No signed payload can stop an erasure: a deletion whose time is unusable falls back to the envelope's
time, and a deletion holding a value no column could store (1e400, a 5,000-digit number, a lone
surrogate, nesting past the limit) is read leniently and stored redacted. Only what identifies the
deletion (its type, ids and a time) must be readable; other event types keep their 400."""

import json
from datetime import UTC, datetime

import pytest

from contacts.models import Contact
from tests.conftest import fixture_with_data, load_fixture
from tests.database_dump import found_in, full_dump
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.providers.fields import NOT_A_STRING_ID, REDACTED
from webhooks.providers.json_body import MAX_JSON_DEPTH

pytestmark = pytest.mark.django_db

TIMELY_PERSON = ["Ana Costa", "+5547991234567", "ana.costa@exemplo.com.br"]
ENVELOPE_TIME = datetime(2026, 4, 19, 16, 0, tzinfo=UTC)
# Placeholders replaced, in the encoded body, by JSON text no encoder writes.
UNSTORABLE_JSON = {
    "1e400": "1e400",
    "a 5000-digit integer": "9" * 5000,
    "a lone surrogate": '"Ana \\ud800 Costa"',
    "NaN": "NaN",
    "nesting past the limit": "[" * (MAX_JSON_DEPTH + 5) + '"Ana Costa"' + "]" * (MAX_JSON_DEPTH + 5),
}


def with_raw(payload: dict, raw: str) -> bytes:
    return json.dumps(payload).replace('"__raw__"', raw).encode()


def holds_only_markers(value) -> bool:
    """Redacted (keys and shape kept, every value replaced) or the actor marker."""
    if isinstance(value, list):
        return all(holds_only_markers(item) for item in value)
    if isinstance(value, dict):
        return all(holds_only_markers(item) for item in value.values())
    return value in (REDACTED, NOT_A_STRING_ID)


@pytest.fixture
def ana(post_webhook):
    assert post_webhook("timely", load_fixture("timely", "contact.created")).status_code == 200
    return Contact.objects.get()


@pytest.fixture
def member(post_webhook):
    payload = load_fixture("fpt", "contact.status_changed")
    assert post_webhook("fpt", payload).status_code == 200
    return Contact.objects.get()


def assert_erased(contact, response, *, values=TIMELY_PERSON) -> WebhookEvent:
    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert contact.erased_at is not None and contact.personal_fields_held() == []
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == WebhookEventStatus.PROCESSED, event.status_reason
    assert event.redacted_at is not None
    assert found_in(full_dump(), values) == []
    return event


@pytest.mark.parametrize("deleted_at", ["yesterday", {"when": "yesterday"}, "0001-01-01T00:00:00+15:00", 7])
def test_timely_deletion_with_an_unusable_deleted_at_erases_at_the_envelope_time(post_webhook, ana, deleted_at):
    response = post_webhook("timely", fixture_with_data("timely", "contact.deleted", deleted_at=deleted_at))
    event = assert_erased(ana, response)
    assert event.occurred_at == ENVELOPE_TIME
    ana.refresh_from_db()
    assert ana.erased_at is not None


def test_timely_deletion_with_an_unusable_envelope_time_erases_at_its_deleted_at(post_webhook, ana):
    payload = {**load_fixture("timely", "contact.deleted"), "timestamp": "yesterday"}
    event = assert_erased(ana, post_webhook("timely", payload))
    assert event.occurred_at == ENVELOPE_TIME  # the fixture's deleted_at


def test_timely_deletion_with_no_usable_time_at_all_is_refused(post_webhook, ana):
    payload = {**fixture_with_data("timely", "contact.deleted", deleted_at="yesterday"), "timestamp": None}
    assert post_webhook("timely", payload).status_code == 400


@pytest.mark.parametrize("raw", UNSTORABLE_JSON.values(), ids=UNSTORABLE_JSON.keys())
@pytest.mark.parametrize("key", ["name", "source", "deleted_by"])
def test_timely_deletion_holding_an_unstorable_value_erases_and_stores_it_redacted(post_webhook, ana, key, raw):
    payload = fixture_with_data("timely", "contact.deleted", **{key: "__raw__"})
    event = assert_erased(ana, post_webhook("timely", with_raw(payload, raw)))
    assert holds_only_markers(event.payload["data"][key])
    assert event.payload["data"]["contact_id"] == "cont_456"


@pytest.mark.parametrize("raw", UNSTORABLE_JSON.values(), ids=UNSTORABLE_JSON.keys())
def test_fpt_deletion_holding_an_unstorable_value_erases_and_stores_it_redacted(post_webhook, member, raw):
    payload = load_fixture("fpt", "contact.deleted")
    payload["data"].update(memberName="__raw__", email="maria.quintanilha@exemplo.com.br")
    response = post_webhook("fpt", with_raw(payload, raw))
    event = assert_erased(member, response, values=["maria.quintanilha", "Ana Costa"])
    # Undeclared in FPT's schema: neither key nor value survives.
    assert event.payload["data"] == {"contactId": 9917342, "operation": "delete"}


@pytest.mark.parametrize("raw", UNSTORABLE_JSON.values(), ids=UNSTORABLE_JSON.keys())
def test_a_deletion_whose_contact_id_is_unstorable_is_still_refused(post_webhook, ana, raw):
    payload = fixture_with_data("timely", "contact.deleted", contact_id="__raw__")
    assert post_webhook("timely", with_raw(payload, raw)).status_code == 400
    assert not WebhookEvent.objects.filter(event_type="contact.deleted").exists()


@pytest.mark.parametrize("raw", UNSTORABLE_JSON.values(), ids=UNSTORABLE_JSON.keys())
def test_an_update_holding_an_unstorable_value_is_still_refused(post_webhook, ana, raw):
    payload = fixture_with_data("timely", "contact.updated", name="__raw__")
    assert post_webhook("timely", with_raw(payload, raw)).status_code == 400


def test_a_deletion_nested_deeper_than_the_parser_reads_is_refused(post_webhook, ana):
    # Documented in docs/erasure-rules.md: neither its type nor its ids can be read.
    raw = "[" * 100_000 + "]" * 100_000
    payload = fixture_with_data("timely", "contact.deleted", name="__raw__")
    assert post_webhook("timely", with_raw(payload, raw)).status_code == 400
