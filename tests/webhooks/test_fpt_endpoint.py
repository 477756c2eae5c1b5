"""POST /webhooks/fpt/: the envelope, dedupe on eventId, the location allow-list, and what is stored."""

import json

import pytest
from django.core.management import call_command

from tests.conftest import load_fixture
from webhooks import samples
from webhooks.models import ErasedSubject, WebhookEvent, WebhookEventStatus
from webhooks.providers import get_provider
from webhooks.providers.fields import REDACTED

pytestmark = pytest.mark.django_db

DOCUMENTED_EVENTS = [
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "contact.status_changed",
    "contact.sub_group_changed",
]


@pytest.mark.parametrize("name", DOCUMENTED_EVENTS)
def test_every_fixture_is_realistic(name):
    payload = load_fixture("fpt", name)
    assert payload["eventType"] == name
    assert len(payload["eventId"]) == 32 and int(payload["eventId"], 16) >= 0
    assert payload["eventTimestamp"].endswith("Z") and len(payload["eventTimestamp"].split(".")[1]) == 4
    assert isinstance(payload["locationId"], int) and isinstance(payload["organizationId"], int)
    assert payload["apiVersion"] == "v1"
    assert isinstance(payload["data"]["contactId"], int)


@pytest.mark.parametrize("name", DOCUMENTED_EVENTS)
def test_every_documented_fixture_is_accepted_stored_and_processed(post_webhook, name):
    payload = load_fixture("fpt", name)
    response = post_webhook("fpt", payload)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert response.json() == {"status": "accepted", "event": event.pk}
    assert (event.provider, event.event_type, event.dedupe_key, event.event_id) == (
        "fpt", name, payload["eventId"], payload["eventId"]
    )  # fmt: skip
    assert (event.account_id, event.external_id) == ("48213", "9917342")
    assert event.status == WebhookEventStatus.PROCESSED, event.status_reason


def test_event_timestamp_with_milliseconds_is_the_time_of_the_change(post_webhook):
    post_webhook("fpt", load_fixture("fpt", "contact.status_changed"))
    occurred = WebhookEvent.objects.get().occurred_at
    assert (occurred.isoformat(timespec="milliseconds")) == "2026-04-19T15:10:02.905+00:00"


def test_raw_bytes_are_stored_exactly_as_received(post_webhook):
    body = json.dumps(load_fixture("fpt", "contact.updated"), indent=4).encode()
    post_webhook("fpt", body)
    assert bytes(WebhookEvent.objects.get().body) == body


def test_redelivery_of_the_same_event_id_is_a_duplicate_even_with_other_bytes(post_webhook):
    payload = load_fixture("fpt", "contact.updated")
    first = post_webhook("fpt", payload).json()
    second = post_webhook("fpt", json.dumps(payload, indent=2).encode())
    assert second.json() == {"status": "duplicate", "event": first["event"]}
    assert WebhookEvent.objects.count() == 1


def envelope(**changes):
    payload = load_fixture("fpt", "contact.status_changed")
    for key, value in changes.items():
        if value is ...:
            payload.pop(key)
        else:
            payload[key] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not valid JSON"),
        (b'"a string"', "not a JSON object"),
        (envelope(eventId=...), "'eventId'"),
        (envelope(eventId=123), "'eventId'"),
        (envelope(eventId="a" * 129), "'eventId'"),
        (envelope(eventType=...), "'eventType'"),
        (envelope(eventType=""), "'eventType'"),
        (envelope(eventTimestamp=...), "'eventTimestamp'"),
        (envelope(eventTimestamp="last tuesday"), "'eventTimestamp'"),
        (envelope(eventTimestamp=1713540000), "'eventTimestamp'"),
        (envelope(locationId=...), "'locationId'"),
        (envelope(locationId="48213"), "'locationId'"),
        (envelope(locationId=True), "'locationId'"),
        (envelope(locationId=48213.5), "'locationId'"),
        (envelope(data=...), "'data'"),
        (envelope(data=[9917342]), "'data'"),
        (envelope(data={"newStatusId": 3}), "'data.contactId'"),
        (envelope(data={"contactId": "9917342", "newStatusId": 3}), "'data.contactId'"),
        (envelope(data={"contactId": None}), "'data.contactId'"),
    ],
)
def test_unusable_envelopes_are_400_with_a_reason_and_not_stored(post_webhook, payload, message):
    response = post_webhook("fpt", payload)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert WebhookEvent.objects.count() == 0


def test_location_outside_fpt_account_ids_is_403(post_webhook, settings):
    settings.WEBHOOK_PROVIDERS = {
        **settings.WEBHOOK_PROVIDERS,
        "fpt": {**settings.WEBHOOK_PROVIDERS["fpt"], "ACCOUNT_IDS": ["1", "2"]},
    }
    response = post_webhook("fpt", load_fixture("fpt", "contact.created"))
    assert response.status_code == 403
    assert "48213" in response.json()["error"]
    assert WebhookEvent.objects.count() == 0


def test_other_event_families_are_stored_and_ignored(post_webhook):
    payload = {**load_fixture("fpt", "contact.created"), "eventType": "appointment.booked", "data": {"slot": 4}}
    assert post_webhook("fpt", payload).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.external_id) == (WebhookEventStatus.IGNORED, "")
    assert "appointment.booked" in event.status_reason


def test_unreadable_status_id_is_skipped_and_named_without_quoting_it(post_webhook):
    payload = envelope(data={"contactId": 9917342, "previousStatusId": 2, "newStatusId": "Members"})
    assert post_webhook("fpt", payload).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.status_reason == "values that cannot be stored skipped: status, status_id"
    assert "Members" not in event.status_reason


class TestRebuild:
    """FPT payloads hold ids, codes and one time, so an erased copy keeps them; anything else goes, key and all."""

    def test_rebuild_keeps_every_documented_field_and_drops_undeclared_keys(self):
        payload = load_fixture("fpt", "contact.status_changed")
        payload["contactName"] = "Maria Silva"
        payload["data"]["maria@exemplo.com.br"] = {"Maria Silva": 1}
        rebuilt = json.loads(get_provider("fpt").rebuilt_body(payload, event_type="contact.status_changed"))
        del payload["contactName"], payload["data"]["maria@exemplo.com.br"]
        # The time is written again from its value (UTC, microseconds): no sender's text survives.
        assert rebuilt.pop("eventTimestamp") == "2026-04-19T15:10:02.905000Z"
        del payload["eventTimestamp"]
        assert rebuilt == payload

    @pytest.mark.parametrize(
        ("key", "value"),
        [("apiVersion", "Maria Silva"), ("organizationId", "maria@exemplo.com.br"), ("eventTimestamp", "ontem")],
    )
    def test_a_declared_value_failing_its_validator_becomes_the_marker_or_a_digest(self, key, value):
        payload = {**load_fixture("fpt", "contact.status_changed"), key: value}
        rebuilt = json.loads(get_provider("fpt").rebuilt_body(payload, event_type="contact.status_changed"))
        assert rebuilt[key] == REDACTED or rebuilt[key].startswith("hmac-sha256:")
        assert value not in json.dumps(rebuilt)

    def test_deletions_are_stored_already_rebuilt_with_their_ids(self, post_webhook):
        payload = load_fixture("fpt", "contact.deleted")
        post_webhook("fpt", payload)
        event = WebhookEvent.objects.get()
        assert event.redacted_at is not None
        assert event.payload == {**payload, "eventTimestamp": "2026-04-19T16:00:00.000000Z"}

    def test_late_events_of_an_erased_contact_are_stored_rebuilt(self, post_webhook):
        ErasedSubject.objects.create(provider="fpt", account_id="48213", external_id="9917342")
        payload = load_fixture("fpt", "contact.updated")
        payload["data"]["email"] = "maria@exemplo.com.br"
        post_webhook("fpt", payload)
        event = WebhookEvent.objects.get()
        assert event.redacted_at is not None
        assert event.payload["data"] == {"contactId": 9917342, "operation": "update"}


class TestSamples:
    """``send_test_webhook fpt <event>``: the fixtures, made fresh and signed with the configured secret."""

    @pytest.mark.parametrize("name", DOCUMENTED_EVENTS)
    def test_signed_sample_is_accepted_by_the_endpoint_with_a_fresh_event_id(self, client, name):
        body, headers = samples.signed_sample("fpt", name)
        payload = json.loads(body)
        fixture = load_fixture("fpt", name)
        assert payload["eventId"] != fixture["eventId"] and len(payload["eventId"]) == 32
        assert payload["eventTimestamp"].endswith("Z") and len(payload["eventTimestamp"]) == 24
        assert payload["data"] == fixture["data"]
        response = client.generic(
            "POST", "/webhooks/fpt/", body, content_type="application/json",
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )  # fmt: skip
        assert response.json()["status"] == "accepted"

    def test_same_id_sample_keeps_the_fixture_event_id(self):
        body, _headers = samples.signed_sample("fpt", "contact.updated", fresh=False)
        assert json.loads(body)["eventId"] == load_fixture("fpt", "contact.updated")["eventId"]

    def test_command_posts_the_signed_sample(self, test_webhook_posts, capsys):
        call_command(
            "send_test_webhook", "fpt", "contact.status_changed", "--url", "http://127.0.0.1:8100/webhooks/fpt/"
        )
        assert test_webhook_posts == ["http://127.0.0.1:8100/webhooks/fpt/"]
        assert '"accepted"' in capsys.readouterr().out
        assert WebhookEvent.objects.get().event_type == "contact.status_changed"


class TestInterpret:
    """What each documented event becomes: the normalized ContactEvent receivers see."""

    def interpret(self, name, **data):
        payload = load_fixture("fpt", name)
        payload["data"].update(data)
        provider = get_provider("fpt")
        return provider.interpret(provider.parse(json.dumps(payload).encode()))

    @pytest.mark.parametrize(("name", "kind"), [("contact.created", "created"), ("contact.updated", "updated")])
    def test_created_and_updated_are_look_up_signals_without_values(self, name, kind):
        event = self.interpret(name)
        assert (event.kind, event.needs_refresh, event.fields, event.complete) == (kind, True, {}, False)

    def test_every_event_names_the_contact_by_location_and_orders_by_event_time(self):
        event = self.interpret("contact.sub_group_changed")
        assert (event.provider, event.account_id, event.external_id) == ("fpt", "48213", "9917342")
        assert event.changed_at.isoformat() == "2026-04-19T15:12:44.051000+00:00"
        assert event.dedupe_key == event.event_id == "d3d9446802a44259755d38e6d163e820"

    def test_status_changed_carries_the_new_status_and_label_and_the_previous_for_drift(self):
        event = self.interpret("contact.status_changed")
        assert (event.kind, event.needs_refresh) == ("status_changed", False)
        assert event.fields == {"status_id": 3, "status": "Members"}
        assert event.previous == {"status_id": 2, "status": "Prospects"}

    def test_sub_group_changed_carries_ids_and_null_as_sent(self):
        event = self.interpret("contact.sub_group_changed", previousSubGroupId=5521, newSubGroupId=None)
        assert (event.kind, event.fields, event.previous) == (
            "sub_group_changed", {"sub_group_id": None}, {"sub_group_id": 5521}
        )  # fmt: skip

    def test_deleted_is_a_soft_deletion_at_the_event_time(self):
        event = self.interpret("contact.deleted")
        assert (event.kind, event.deletion_is_final) == ("deleted", False)
        assert event.deleted_at.isoformat() == "2026-04-19T16:00:00+00:00"

    @pytest.mark.parametrize("name", DOCUMENTED_EVENTS)
    def test_no_fpt_event_is_final_about_deletion(self, name):
        assert self.interpret(name).deletion_is_final is False

    def test_sub_group_changed_without_a_new_value_names_the_field_unreadable(self):
        payload = load_fixture("fpt", "contact.sub_group_changed")
        del payload["data"]["newSubGroupId"]
        provider = get_provider("fpt")
        event = provider.interpret(provider.parse(json.dumps(payload).encode()))
        assert (event.fields, event.unreadable) == ({}, ("sub_group_id",))
