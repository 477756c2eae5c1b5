"""Events of families we do not apply name their contact under other keys too (``data.contact.id``,
``data.conversation.contact_id``): they are linked by it, so an erasure reaches them and, after one, they
are stored redacted. One that names no contact we can read is stored redacted from the start, keeping
only the ids the provider's allowlist keeps: nothing could ever erase it later."""

import uuid

import pytest

from tests.conftest import load_fixture
from tests.contacts.fpt_events import fpt_event
from tests.database_dump import found_in, full_dump
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db

PERSON = {"name": "Maria Eduarda Quintanilha", "phone": "+5547998765432", "text": "Lesão no joelho esquerdo"}


def timely_event(event_type: str, **data):
    return {"event": event_type, "event_id": f"evt_{uuid.uuid4().hex}", "timestamp": "2026-04-19T17:00:00Z",
            "workspace_id": "ws_abc123", "data": data}  # fmt: skip


def fpt_other(event_type: str, **data):
    return {**fpt_event("contact.updated"), "eventType": event_type, "data": data}


def delivered(post_webhook, provider, payload) -> WebhookEvent:
    response = post_webhook(provider, payload)
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == WebhookEventStatus.IGNORED, event.status_reason
    return event


def timely_deletion(post_webhook):
    assert post_webhook("timely", load_fixture("timely", "contact.deleted")).status_code == 200


def fpt_deletion(post_webhook):
    assert post_webhook("fpt", fpt_event("contact.deleted", at=10)).status_code == 200


NAMED_ELSEWHERE = [
    pytest.param(
        "timely",
        timely_event("message.created", contact={"id": "cont_456", "name": PERSON["name"], "phone": PERSON["phone"]},
                     text=PERSON["text"]),
        "cont_456", timely_deletion, id="timely data.contact.id",
    ),
    pytest.param(
        "timely",
        timely_event("conversation.created", conversation={"id": "conv_1", "contact_id": "cont_456"},
                     text=PERSON["text"]),
        "cont_456", timely_deletion, id="timely data.conversation.contact_id",
    ),
    pytest.param(
        "fpt", fpt_other("note.created", contact={"id": 9917342, "name": PERSON["name"]}, body=PERSON["text"]),
        "9917342", fpt_deletion, id="fpt data.contact.id",
    ),
    pytest.param(
        "fpt", fpt_other("appointment.booked", booking={"contactId": "9917342"}, memberName=PERSON["name"]),
        "9917342", fpt_deletion, id="fpt data.booking.contactId",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "payload", "contact_id", "delete"), NAMED_ELSEWHERE)
def test_an_event_naming_its_contact_under_another_key_is_linked_and_redacted_by_the_erasure(
    post_webhook, provider, payload, contact_id, delete
):
    event = delivered(post_webhook, provider, payload)
    assert (event.external_id, event.redacted_at) == (contact_id, None)
    delete(post_webhook)
    event.refresh_from_db()
    assert event.redacted_at is not None
    assert found_in(full_dump(), PERSON.values()) == []


@pytest.mark.parametrize(("provider", "payload", "contact_id", "delete"), NAMED_ELSEWHERE)
def test_an_event_naming_an_erased_contact_under_another_key_is_stored_redacted(
    post_webhook, provider, payload, contact_id, delete
):
    delete(post_webhook)
    event = delivered(post_webhook, provider, payload)
    assert (event.external_id, event.redacted_at is not None) == (contact_id, True)
    assert found_in(full_dump(), PERSON.values()) == []


@pytest.mark.parametrize(
    ("provider", "payload"),
    [
        pytest.param("timely", timely_event("message.created", text=PERSON["text"], sender=PERSON["name"]),
                     id="timely names no one"),
        pytest.param("fpt", fpt_other("note.created", memberId=9917342, memberName=PERSON["name"]),
                     id="fpt data.memberId"),
        pytest.param("timely", timely_event("message.created", contact={"id": "cont_1"}, contact_id="cont_2",
                                            text=PERSON["text"]), id="timely two different contacts"),
    ],
)  # fmt: skip
def test_an_event_of_another_family_naming_no_readable_contact_is_stored_redacted_with_its_ids(
    post_webhook, provider, payload
):
    event = delivered(post_webhook, provider, payload)
    assert (event.external_id, event.redacted_at is not None) == ("", True)
    assert event.event_id == (payload.get("event_id") or payload.get("eventId"))
    stored = event.payload
    assert stored.get("event_id", stored.get("eventId")) == event.event_id  # declared ids kept
    assert stored["data"] == {}  # another family's data: unpublished, nothing declared survives
    assert found_in(full_dump(), PERSON.values()) == []


def test_the_same_contact_named_twice_is_one_link(post_webhook):
    payload = timely_event("message.created", contact_id="cont_456", contact={"id": "cont_456"}, text="x")
    event = delivered(post_webhook, "timely", payload)
    assert (event.external_id, event.redacted_at) == ("cont_456", None)
