"""Actors (``deleted_by``, ``updated_by`` and their ``_type``s) are stored only as plain string ids: control
characters removed, cut to the column; anything else as a fixed marker. Whatever shape they have, a
deletion erases and an update applies."""

import pytest

from contacts.models import Contact, ErasureRecord
from tests.conftest import fixture_with_data, load_fixture
from tests.database_dump import found_in, full_dump
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.providers.fields import (
    MAX_ACTOR_ID_LENGTH,
    MAX_ACTOR_TYPE_LENGTH,
    NOT_A_STRING_ID,
    actor_fields,
)

pytestmark = pytest.mark.django_db

PERSON = ["Ana Costa", "+5547991234567", "ana.costa@exemplo.com.br"]
STAFF_OBJECT = {"id": "usr_1", "name": "Staff Person Quintela"}


def deletion(**data):
    return fixture_with_data("timely", "contact.deleted", **data)


def update(**data):
    return fixture_with_data("timely", "contact.updated", **data)


@pytest.fixture
def ana(post_webhook):
    assert post_webhook("timely", load_fixture("timely", "contact.created")).status_code == 200
    return Contact.objects.get()


def assert_erased(contact):
    contact.refresh_from_db()
    assert contact.erased_at is not None and contact.personal_fields_held() == []
    assert not WebhookEvent.objects.filter(external_id=contact.external_id, redacted_at__isnull=True).exists()
    assert found_in(full_dump(), PERSON) == []


class TestActorFields:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("usr_321", "usr_321"),
            ("  usr_321 ", "usr_321"),
            ("usr\x00_321", "usr_321"),
            ("usr_\x1b31m321\u202e\u200b", "usr_31m321"),
            ("9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f", "9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f"),
            ("team.support:agent-7", "team.support:agent-7"),
            (321, "321"),
            (None, ""),
            ("", ""),
            ({"id": "usr_1"}, NOT_A_STRING_ID),
            (["usr_1"], NOT_A_STRING_ID),
            (True, NOT_A_STRING_ID),
            (1.5, NOT_A_STRING_ID),
            ("Maria Souza Staff", NOT_A_STRING_ID),
            ("ana.costa@exemplo.com.br", NOT_A_STRING_ID),
            ("usr_\x1b[31m321", NOT_A_STRING_ID),
            ("Joao\u00e3o", NOT_A_STRING_ID),
        ],
    )
    def test_an_actor_is_a_plain_string_id_or_the_marker(self, value, expected):
        assert actor_fields(value, None)["actor_id"] == expected

    def test_actors_are_cut_to_the_narrowest_column_that_stores_them(self):
        actor = actor_fields("u" * 10_000, "t" * 10_000)
        assert (len(actor["actor_id"]), len(actor["actor_type"])) == (MAX_ACTOR_ID_LENGTH, MAX_ACTOR_TYPE_LENGTH)
        assert actor_fields(10**400, None)["actor_id"] == "1" + "0" * (MAX_ACTOR_ID_LENGTH - 1)

    def test_the_widths_fit_every_column_that_stores_an_actor(self):
        assert WebhookEvent._meta.get_field("actor_id").max_length >= MAX_ACTOR_ID_LENGTH
        assert ErasureRecord._meta.get_field("requested_by").max_length >= MAX_ACTOR_ID_LENGTH
        assert WebhookEvent._meta.get_field("actor_type").max_length >= MAX_ACTOR_TYPE_LENGTH
        assert ErasureRecord._meta.get_field("requested_by_type").max_length >= MAX_ACTOR_TYPE_LENGTH
        assert len(NOT_A_STRING_ID) <= MAX_ACTOR_TYPE_LENGTH


def test_deletion_with_a_deleted_by_longer_than_its_column_erases_and_logs_it_cut(post_webhook, ana):
    response = post_webhook("timely", deletion(deleted_by="usr_" + "9" * 500, deleted_by_type="attendant" * 10))
    assert response.status_code == 200
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == WebhookEventStatus.PROCESSED, event.status_reason
    assert_erased(ana)
    record = ErasureRecord.objects.get()
    assert record.requested_by == ("usr_" + "9" * 500)[:MAX_ACTOR_ID_LENGTH] == event.actor_id
    assert record.requested_by_type == ("attendant" * 10)[:MAX_ACTOR_TYPE_LENGTH] == event.actor_type


def test_deletion_with_a_nul_in_deleted_by_erases_and_logs_it_without_the_nul(post_webhook, ana):
    response = post_webhook("timely", deletion(deleted_by="usr\x00321", deleted_by_type="atten\x00dant"))
    assert response.status_code == 200
    assert_erased(ana)
    record = ErasureRecord.objects.get()
    assert (record.requested_by, record.requested_by_type) == ("usr321", "attendant")


def test_deletion_with_an_object_deleted_by_erases_and_logs_a_marker(post_webhook, ana):
    response = post_webhook("timely", deletion(deleted_by=STAFF_OBJECT, deleted_by_type=["attendant"]))
    assert response.status_code == 200
    assert_erased(ana)
    record = ErasureRecord.objects.get()
    assert (record.requested_by, record.requested_by_type) == (NOT_A_STRING_ID, NOT_A_STRING_ID)
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert (event.actor_id, event.actor_type) == (NOT_A_STRING_ID, NOT_A_STRING_ID)
    # Not even the stored deletion keeps the object: a kept key holds ids, never records.
    assert event.payload["data"]["deleted_by"] == NOT_A_STRING_ID
    assert found_in(full_dump(), ["Staff Person Quintela"]) == []


@pytest.mark.parametrize("deleted_by", ["Maria Souza Staff", "ana.costa@exemplo.com.br"])
def test_deletion_whose_deleted_by_is_a_name_or_an_email_logs_the_marker_and_stores_it_in_the_payload(
    post_webhook, ana, deleted_by
):
    response = post_webhook("timely", deletion(deleted_by=deleted_by, deleted_by_type="Staff Member"))
    assert response.status_code == 200
    assert_erased(ana)
    record = ErasureRecord.objects.get()
    assert (record.requested_by, record.requested_by_type) == (NOT_A_STRING_ID, NOT_A_STRING_ID)
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.payload["data"]["deleted_by"] == event.payload["data"]["deleted_by_type"] == NOT_A_STRING_ID
    assert found_in(full_dump(), ["Maria Souza Staff", "Staff Member"]) == []


def test_deletion_stores_a_plain_deleted_by_in_its_payload_as_the_erasure_record_holds_it(post_webhook, ana):
    response = post_webhook("timely", deletion(deleted_by=" usr\x00_321 ", deleted_by_type="attendant"))
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.payload["data"]["deleted_by"] == ErasureRecord.objects.get().requested_by == "usr_321"


def test_an_update_about_an_erased_contact_stores_its_named_updated_by_as_the_marker(post_webhook, ana):
    post_webhook("timely", deletion())
    response = post_webhook("timely", update(updated_by="Maria Souza Staff"))
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.redacted_at is not None
    assert event.payload["data"]["updated_by"] == NOT_A_STRING_ID
    assert found_in(full_dump(), ["Maria Souza Staff"]) == []


def test_deletion_with_a_numeric_deleted_by_keeps_it_as_its_string(post_webhook, ana):
    post_webhook("timely", deletion(deleted_by=321, deleted_by_type=None))
    assert_erased(ana)
    record = ErasureRecord.objects.get()
    assert (record.requested_by, record.requested_by_type) == ("321", "timely")


def test_a_replayed_deletion_with_an_odd_actor_is_a_duplicate_of_the_erasure(post_webhook, ana):
    payload = deletion(deleted_by="usr_" + "9" * 500)
    first = post_webhook("timely", payload)
    second = post_webhook("timely", payload)
    assert second.json() == {"status": "duplicate", "event": first.json()["event"]}
    assert_erased(ana)
    assert ErasureRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("updated_by", "updated_by_type", "stored"),
    [
        ("usr_" + "7" * 500, "attendant", ("usr_" + "7" * 500)[:MAX_ACTOR_ID_LENGTH]),
        ("usr\x00321", "atten\x00dant", "usr321"),
        (STAFF_OBJECT, "attendant", NOT_A_STRING_ID),
        ("usr_321", "t" * 100, "usr_321"),
    ],
)
def test_update_with_an_odd_updated_by_applies_and_stores_a_plain_id(
    post_webhook, ana, updated_by, updated_by_type, stored
):
    response = post_webhook("timely", update(updated_by=updated_by, updated_by_type=updated_by_type))
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == WebhookEventStatus.PROCESSED, event.status_reason
    assert event.actor_id == stored
    assert "\x00" not in event.actor_type and len(event.actor_type) <= MAX_ACTOR_TYPE_LENGTH
    ana.refresh_from_db()
    assert ana.name == "Ana Costa Ribeiro"


def test_our_own_api_writes_are_still_recognised_after_cleaning_the_actor(post_webhook, ana, settings):
    settings.WEBHOOK_PROVIDERS = {
        **settings.WEBHOOK_PROVIDERS,
        "timely": {**settings.WEBHOOK_PROVIDERS["timely"], "IGNORE_ACTORS": ["usr_api"]},
    }
    response = post_webhook("timely", update(updated_by="usr_api\x00", updated_by_type="api"))
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == WebhookEventStatus.IGNORED
    ana.refresh_from_db()
    assert ana.name == "Ana Costa"
