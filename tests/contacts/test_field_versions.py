"""``FieldVersion``: which change set a field, ordered by time then dedupe key, stored as the ``[time, dedupe
key]`` pair every row already holds; rows written before it existed still compare as they did."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contacts.models import Contact
from contacts.services.last_write_wins import SNAPSHOT_DEDUPE_KEY, FieldVersion
from tests.factories import ContactFactory
from tests.webhooks.timely_payloads import created, deleted, updated
from webhooks.models import WebhookEvent

AT = datetime(2026, 4, 19, 15, 0, 20, 123456, tzinfo=UTC)


def test_the_stored_form_is_the_time_in_utc_with_microseconds_and_the_dedupe_key():
    brasilia = timezone(timedelta(hours=-3))
    version = FieldVersion(AT.astimezone(brasilia), "evt_1")
    assert version.to_json() == ["2026-04-19T15:00:20.123456Z", "evt_1"]
    assert FieldVersion(datetime(2026, 4, 19, 15, tzinfo=UTC), "evt_1").to_json()[0] == "2026-04-19T15:00:00.000000Z"
    assert FieldVersion.from_json(version.to_json()) == version
    assert FieldVersion.from_json(None) is None


def test_versions_order_by_time_then_dedupe_key_and_a_snapshot_wins_its_ties():
    earlier, later = FieldVersion(AT, "evt_z"), FieldVersion(AT + timedelta(microseconds=1), "evt_a")
    assert earlier < later
    assert FieldVersion(AT, "evt_a") < FieldVersion(AT, "evt_b")
    # The same instant in another zone is the same version.
    assert FieldVersion(AT.astimezone(timezone(timedelta(hours=2))), "evt_a") == FieldVersion(AT, "evt_a")
    snapshot = FieldVersion.of_snapshot(AT.replace(tzinfo=None))  # a fetcher's naive time is UTC
    assert snapshot.dedupe_key == SNAPSHOT_DEDUPE_KEY and snapshot.changed_at == AT
    assert snapshot > FieldVersion(AT, "evt_01HX") and snapshot > FieldVersion(AT, "d3d9446802a44259755d38e6d163e820")


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="aware"):
        FieldVersion(AT.replace(tzinfo=None), "evt_1")


def test_stored_pairs_order_the_same_as_text_and_as_versions():
    """Before ``FieldVersion``, the stored pairs themselves were compared (as lists of text)."""
    stored = [
        ["2026-04-19T15:00:20.000000Z", "evt_b"],
        ["2026-04-19T15:00:20.000000Z", "evt_a"],
        ["2026-04-19T15:00:20.000000Z", SNAPSHOT_DEDUPE_KEY],
        ["2026-04-19T15:00:19.999999Z", "~"],
        ["2025-12-31T23:59:59.000000Z", "evt_z"],
        ["2026-01-01T00:00:00.000000Z", "0"],
    ]
    assert sorted(stored, key=FieldVersion.from_json) == sorted(stored)


@pytest.mark.django_db
def test_a_contact_stored_before_field_versions_existed_applies_only_newer_changes(post_webhook):
    # A row as the old code wrote it: raw pairs, no FieldVersion involved (timely_payloads.at(60) is 14:01:00).
    ContactFactory(
        external_id="cont_old",
        name="Ana Costa",
        phone="+5547991234567",
        field_versions={
            "name": ["2026-04-19T14:01:00.000000Z", "evt_m"],
            "phone": ["2026-04-19T14:01:00.000000Z", "evt_m"],
        },
    )
    # Same time, smaller dedupe key: older. Same time, larger key: newer. Later time: newer.
    post_webhook("timely", updated(event_id="evt_a", contact_id="cont_old", seconds=60, changes={"name": "Older"}))
    post_webhook(
        "timely", updated(event_id="evt_z", contact_id="cont_old", seconds=60, changes={"phone": "+5547990000000"})
    )
    post_webhook("timely", updated(event_id="evt_0", contact_id="cont_old", seconds=61, changes={"name": "Ana Newer"}))

    contact = Contact.objects.get(external_id="cont_old")
    assert (contact.name, contact.phone) == ("Ana Newer", "+5547990000000")
    assert WebhookEvent.objects.get(event_id="evt_a").status_reason == "stale fields skipped: name"
    assert contact.field_versions == {
        "name": ["2026-04-19T14:01:01.000000Z", "evt_0"],
        "phone": ["2026-04-19T14:01:00.000000Z", "evt_z"],
    }
    assert contact.remote_updated_at == datetime(2026, 4, 19, 14, 1, 1, tzinfo=UTC)


@pytest.mark.django_db
def test_an_old_tombstone_still_refuses_what_its_deletion_is_newer_than(post_webhook):
    post_webhook("timely", created(event_id="evt_c", contact_id="cont_t", seconds=0, name="Ana Costa"))
    post_webhook("timely", deleted(event_id="evt_d", contact_id="cont_t", seconds=100))
    tombstone = Contact.objects.get(external_id="cont_t")
    assert tombstone.field_versions == {"_deleted": ["2026-04-19T14:01:40.000000Z", "evt_d"]}

    # An older deletion delivered late leaves the stored deletion as it was; a newer one moves it.
    post_webhook("timely", deleted(event_id="evt_d0", contact_id="cont_t", seconds=50))
    tombstone.refresh_from_db()
    assert tombstone.field_versions == {"_deleted": ["2026-04-19T14:01:40.000000Z", "evt_d"]}
    post_webhook("timely", deleted(event_id="evt_d2", contact_id="cont_t", seconds=200))
    tombstone.refresh_from_db()
    assert tombstone.field_versions == {"_deleted": ["2026-04-19T14:03:20.000000Z", "evt_d2"]}
