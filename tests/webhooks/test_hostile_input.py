"""Inputs built to break the receiver: each gets the contract's answer, never a 500, and never a row that
later breaks a read or a 503 the provider would retry forever."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from contacts.models import Contact
from contacts.normalize import normalize_field
from tests.conftest import load_fixture
from tests.factories import UserFactory, WebhookEventFactory
from webhooks.events import ProcessingError
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db


def timely(**changes):
    payload = load_fixture("timely", "contact.created")
    payload.update(changes)
    return payload


@pytest.mark.parametrize("timestamp", ["\u00b2", "9" * 5000, "-1", "1e9", " "])
def test_odd_timestamp_headers_are_401_without_any_secret(client, timestamp):
    body = json.dumps(load_fixture("timely", "contact.created")).encode()
    response = client.generic(
        "POST", "/webhooks/timely/", body, content_type="application/json",
        headers={"X-Timely-Signature": "sha256=" + "a" * 64, "X-Timely-Timestamp": timestamp},
    )  # fmt: skip
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        timely(timestamp="9999-12-31T23:59:59-10:00"),
        timely(timestamp="0001-01-01T00:00:00+10:00"),
        timely(data={**load_fixture("timely", "contact.created")["data"], "created_at": "9999-12-31T23:59:59-10:00"}),
    ],
)
def test_timestamps_outside_what_can_be_stored_and_read_back_are_400(post_webhook, payload):
    response = post_webhook("timely", payload)
    assert response.status_code == 400
    assert "out of range" in response.json()["error"]


def test_fpt_timestamp_outside_the_range_is_400(post_webhook):
    payload = load_fixture("fpt", "contact.created")
    payload["eventTimestamp"] = "9999-12-31T23:59:59.000-10:00"
    assert post_webhook("fpt", payload).status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000, "not valid JSON"),
        # Deeper than we store (32), well short of the interpreter's recursion limit (that case is the first one).
        (json.dumps({**timely(), "deep": json.loads("[" * 200 + "]" * 200)}).encode(), "nested deeper"),
        (json.dumps(timely()).replace('"Ana Costa"', '"Ana \\ud83d"').encode(), "surrogate"),
        (json.dumps(timely()).replace('"event_id"', '"\\ud800"', 1).encode(), "surrogate"),
        # Sent raw, not escaped: Python's json reads UTF-8 letting surrogates pass, and reads UTF-16 too.
        (json.dumps(timely()).replace('"Ana Costa"', '"Ana ?"').encode().replace(b"?", b"\xed\xa0\x80"), "surrogate"),
        (json.dumps(timely()).replace('"Ana Costa"', '"Ana \\udc00"').encode("utf-16-le"), "surrogate"),
        ((json.dumps(timely())[:-1] + ', "x": "?"}').encode("utf-16-le").replace(b"?\x00", b"\x00\xd8"), "surrogate"),
        # The brackets that may nest are counted in the raw bytes, whatever their encoding.
        (json.dumps({**timely(), "deep": json.loads("[" * 40 + "]" * 40)}).encode("utf-16"), "nested deeper"),
        (json.dumps(timely()).replace('"Ana Costa"', "NaN").encode(), "NaN"),
        (json.dumps(timely()).replace('"Ana Costa"', "-Infinity").encode(), "-Infinity"),
        (json.dumps(timely(event_id="evt_\u0000")).encode(), "NUL"),
        (json.dumps(timely(workspace_id="ws\u0000")).encode(), "NUL"),
    ],
)
def test_bodies_that_could_not_be_stored_or_read_back_are_400(post_webhook, body, message):
    response = post_webhook("timely", body)
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("field", ["locationId", "contactId"])
def test_fpt_ids_too_long_for_the_column_are_400(post_webhook, field):
    payload = load_fixture("fpt", "contact.created")
    if field == "locationId":
        payload["locationId"] = 10**300
    else:
        payload["data"]["contactId"] = 10**300
    response = post_webhook("fpt", payload)
    assert response.status_code == 400
    assert "at most 128" in response.json()["error"]


def test_a_nul_in_a_stored_header_does_not_cost_the_delivery(post_webhook):
    response = post_webhook("timely", timely(), headers={"User-Agent": "Timely\u0000/1"})
    assert response.status_code == 200
    assert WebhookEvent.objects.get().headers["User-Agent"] == "Timely/1"


def test_a_forwarded_address_that_is_not_an_ip_is_not_stored(post_webhook, settings):
    settings.WEBHOOK_TRUSTED_PROXY_COUNT = 1
    response = post_webhook("timely", timely(), headers={"X-Forwarded-For": "not-an-address"})
    assert response.status_code == 200
    assert WebhookEvent.objects.get().remote_addr is None


def test_other_families_with_unreadable_times_are_stored_on_the_envelope_time(post_webhook):
    payload = {
        "event": "message.received", "event_id": "evt_msg_1", "timestamp": "2026-04-19T14:31:00Z",
        "workspace_id": "ws_abc123", "data": {"contact_id": "cont_456", "created_at": 1700000000},
    }  # fmt: skip
    assert post_webhook("timely", payload).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.IGNORED
    assert event.occurred_at.isoformat() == "2026-04-19T14:31:00+00:00"


def test_remote_created_at_is_the_creation_time_even_when_updated_at_is_sent(post_webhook):
    data = {**load_fixture("timely", "contact.created")["data"], "updated_at": "2026-04-20T09:00:00Z"}
    post_webhook("timely", timely(data=data))
    assert Contact.objects.get().remote_created_at.isoformat() == "2026-04-19T14:30:00+00:00"


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+10:00", "1850-01-01T00:00:00Z"])
def test_contact_times_outside_the_readable_range_fail_the_event_not_the_reads(value):
    with pytest.raises(ProcessingError, match="out of range"):
        normalize_field("last_call_at", value)


def test_reprocess_and_export_need_their_own_permissions(client):
    event = WebhookEventFactory(status=WebhookEventStatus.FAILED)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookevent"))
    client.force_login(viewer)
    url = reverse("admin:webhooks_webhookevent_changelist")
    assert not {"reprocess", "export_json", "export_csv"} & available_actions(client.get(url))
    refused = client.post(url, {"action": "export_json", "_selected_action": [event.pk]})
    assert refused.status_code == 200 and refused.get("Content-Disposition") is None

    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["reprocess_webhookevent", "export_webhookevent"])
    )
    assert {"reprocess", "export_json", "export_csv"} <= available_actions(client.get(url))


def available_actions(response) -> set[str]:
    form = response.context["action_form"]  # None when the user may run no action at all
    return set(dict(form.fields["action"].choices)) if form else set()


def test_a_delivery_that_cannot_be_stored_is_503_and_its_log_line_quotes_no_row(post_webhook, monkeypatch, caplog):
    # psycopg's errors carry the refused row ("DETAIL: Failing row contains (...)"): payload values.
    from django.db import IntegrityError

    def refuse(**kwargs):
        raise IntegrityError('null value in column "erasure"\nDETAIL: Failing row contains (Ana Costa Ribeiro).')

    monkeypatch.setattr("webhooks.views.store_delivery", refuse)
    response = post_webhook("timely", load_fixture("timely", "contact.created"))
    assert response.status_code == 503
    assert "could not store a timely delivery: django.db.utils.IntegrityError" in caplog.text
    assert "Ana Costa" not in caplog.text and "Failing row" not in caplog.text
