"""Sync rule 9: FPT's signals applied to contacts, whatever order they arrive in."""

import itertools

import pytest

from contacts.models import Contact, ErasureRecord
from tests.contacts.fpt_events import BASE_TIME, fpt_event, status_change, sub_group_change
from tests.factories import ContactFactory
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db


def fpt_contact(contact=9917342, location=48213):
    return Contact.objects.get(provider="fpt", account_id=str(location), external_id=str(contact))


def last_event():
    return WebhookEvent.objects.order_by("-id").first()


class TestLookUpSignals:
    @pytest.mark.parametrize("name", ["contact.created", "contact.updated"])
    def test_signal_for_an_unknown_contact_creates_it_needing_refresh_with_no_values(self, post_webhook, name):
        post_webhook("fpt", fpt_event(name))
        contact = fpt_contact()
        assert contact.needs_refresh is True
        assert (contact.name, contact.status_id, contact.sub_group_id, contact.can_sms) == ("", None, "", None)
        assert last_event().status == WebhookEventStatus.PROCESSED
        assert last_event().changed_fields == []

    def test_updated_marks_a_known_contact_needs_refresh_and_touches_nothing_else(self, post_webhook):
        known = ContactFactory(provider="fpt", account_id="48213", external_id="9917342", name="Maria Silva",
                               status_id=3, status="Members", needs_refresh=False)  # fmt: skip
        post_webhook("fpt", fpt_event("contact.updated"))
        contact = fpt_contact()
        assert contact.needs_refresh is True
        assert (contact.name, contact.status_id, contact.status) == (known.name, 3, "Members")
        assert "marked needs_refresh" in last_event().status_reason


class TestTypedChanges:
    def test_status_changed_sets_the_status_id_and_its_label(self, post_webhook):
        post_webhook("fpt", status_change(3, previous=2))
        contact = fpt_contact()
        assert (contact.status_id, contact.status) == (3, "Members")
        assert last_event().changed_fields == ["status", "status_id"]

    @pytest.mark.parametrize(
        ("status_id", "label"),
        [(1, "Leads"), (2, "Prospects"), (3, "Members"), (4, "Past Members"), (5, "Non-members"), (6, "Other"),
         (7, "Staff")],
    )  # fmt: skip
    def test_every_documented_status_has_its_label(self, post_webhook, status_id, label):
        post_webhook("fpt", status_change(status_id))
        assert fpt_contact().status == label

    def test_status_unknown_to_the_docs_is_kept_with_a_placeholder_label(self, post_webhook):
        post_webhook("fpt", status_change(12))
        assert (fpt_contact().status_id, fpt_contact().status) == (12, "Unknown (12)")

    def test_previous_status_differing_from_ours_is_recorded_as_drift(self, post_webhook):
        ContactFactory(provider="fpt", account_id="48213", external_id="9917342", status_id=1, status="Leads")
        post_webhook("fpt", status_change(3, previous=2))
        assert last_event().drift == ["status", "status_id"]
        assert fpt_contact().status_id == 3

    def test_sub_group_changed_sets_the_sub_group_and_null_clears_it(self, post_webhook):
        post_webhook("fpt", sub_group_change(5521, at=1))
        assert fpt_contact().sub_group_id == "5521"
        post_webhook("fpt", sub_group_change(None, previous=5521, at=2))
        assert fpt_contact().sub_group_id == ""
        assert last_event().status == WebhookEventStatus.PROCESSED

    def test_typed_change_for_an_unknown_contact_creates_a_partial_one(self, post_webhook):
        post_webhook("fpt", sub_group_change(77))
        contact = fpt_contact()
        assert (contact.sub_group_id, contact.needs_refresh) == ("77", True)

    def test_older_status_change_arriving_late_is_skipped_and_named(self, post_webhook):
        post_webhook("fpt", status_change(3, at=10))
        post_webhook("fpt", status_change(4, at=5))
        assert fpt_contact().status_id == 3
        assert last_event().status_reason == "stale fields skipped: status, status_id"

    @pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
    def test_out_of_order_status_and_sub_group_changes_converge(self, post_webhook, order):
        events = [
            status_change(2, previous=1, at=1),
            status_change(3, previous=2, at=2),
            sub_group_change(10, at=3),
            sub_group_change(None, previous=10, at=4),
        ]
        for index in order:
            post_webhook("fpt", events[index])
        contact = fpt_contact()
        assert (contact.status_id, contact.status, contact.sub_group_id) == (3, "Members", "")
        assert contact.remote_updated_at == BASE_TIME.replace(second=4)

    def test_equal_times_are_broken_by_the_event_id_in_any_order(self, post_webhook):
        low = status_change(4, at=1, event_id="0" * 32)
        high = status_change(5, at=1, event_id="f" * 32)
        post_webhook("fpt", high)
        post_webhook("fpt", low)
        assert fpt_contact().status_id == 5


class TestLocations:
    def test_same_contact_id_at_two_locations_is_two_contacts(self, post_webhook):
        post_webhook("fpt", status_change(3, location=111))
        post_webhook("fpt", status_change(7, location=222))
        post_webhook("fpt", fpt_event("contact.deleted", location=111, at=5))
        first, second = fpt_contact(location=111), fpt_contact(location=222)
        assert first.pk != second.pk
        assert first.is_erased and first.status_id is None
        assert (second.is_erased, second.status_id, second.status) == (False, 7, "Staff")
        assert ErasureRecord.objects.get().account_id == "111"


class TestDeletionAndReactivation:
    def test_deleted_erases_the_contact_with_an_erasure_record(self, post_webhook):
        post_webhook("fpt", status_change(3, at=1))
        post_webhook("fpt", sub_group_change(8, at=2))
        deletion = fpt_event("contact.deleted", at=10)
        post_webhook("fpt", deletion)
        contact = fpt_contact()
        assert contact.is_erased
        assert (contact.status_id, contact.status, contact.sub_group_id) == (None, "", "")
        record = ErasureRecord.objects.get()
        assert (record.provider, record.account_id, record.external_id) == ("fpt", "48213", "9917342")
        assert record.event_id == deletion["eventId"]
        assert record.requested_by_type == "fpt"
        assert record.deleted_at == BASE_TIME.replace(second=10)
        assert sorted(record.erased_fields) == ["remote_updated_at", "status", "status_id", "sub_group_id"]
        assert record.compute_hash() == record.hash

    def test_deletion_of_an_unknown_contact_leaves_a_tombstone(self, post_webhook):
        post_webhook("fpt", fpt_event("contact.deleted"))
        assert fpt_contact().is_erased
        assert ErasureRecord.objects.count() == 1

    def test_later_updated_marks_the_tombstone_needs_refresh_without_restoring_anything(self, post_webhook):
        post_webhook("fpt", status_change(3, at=1))
        post_webhook("fpt", fpt_event("contact.deleted", at=10))
        assert fpt_contact().needs_refresh is False
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        contact = fpt_contact()
        assert contact.is_erased and contact.needs_refresh
        assert (contact.status_id, contact.status) == (None, "")
        assert last_event().status == WebhookEventStatus.PROCESSED
        assert last_event().status_reason == "reactivated upstream: marked needs_refresh"
        assert ErasureRecord.objects.count() == 1

    def test_update_older_than_the_deletion_does_not_reactivate(self, post_webhook):
        post_webhook("fpt", fpt_event("contact.deleted", at=10))
        post_webhook("fpt", fpt_event("contact.updated", at=9))
        assert fpt_contact().needs_refresh is False
        assert last_event().status == WebhookEventStatus.IGNORED
        assert last_event().status_reason == "older than the contact's deletion"

    def test_typed_change_after_the_deletion_is_ignored_until_a_look_up(self, post_webhook):
        post_webhook("fpt", fpt_event("contact.deleted", at=10))
        post_webhook("fpt", status_change(3, at=20))
        contact = fpt_contact()
        assert (contact.status_id, contact.needs_refresh) == (None, False)
        assert last_event().status == WebhookEventStatus.IGNORED

    def test_status_change_from_before_the_deletion_arriving_late_changes_nothing(self, post_webhook):
        post_webhook("fpt", fpt_event("contact.deleted", at=10))
        post_webhook("fpt", status_change(3, at=5))
        assert fpt_contact().status_id is None
        assert last_event().status_reason == "older than the contact's deletion"

    def test_contact_erased_on_a_data_subject_request_is_not_reactivated(self, post_webhook):
        from contacts.services import erase_on_request

        post_webhook("fpt", status_change(3, at=1))
        erase_on_request(contact=fpt_contact(), requested_by="dpo", requested_by_type="cli", reference="DSR-1")
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        assert fpt_contact().needs_refresh is False
        assert last_event().status_reason == "contact was erased on a data-subject request"

    def test_second_deletion_of_a_tombstone_adds_no_record(self, post_webhook):
        post_webhook("fpt", fpt_event("contact.deleted", at=10))
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        post_webhook("fpt", fpt_event("contact.deleted", at=30))
        assert ErasureRecord.objects.count() == 1
        assert fpt_contact().is_erased


class TestTombstonesConverge:
    TOMBSTONE_FIELDS = ["name", "status_id", "status", "sub_group_id", "remote_updated_at", "needs_refresh",
                        "field_versions", "refresh_attempts"]  # fmt: skip

    def tombstone(self):
        contact = fpt_contact()
        assert contact.is_erased
        return {name: getattr(contact, name) for name in self.TOMBSTONE_FIELDS}

    @pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
    def test_reactivation_arriving_before_its_deletion_leaves_the_same_tombstone(self, post_webhook, order):
        events = [
            status_change(3, at=1),
            fpt_event("contact.updated", at=2),
            fpt_event("contact.deleted", at=10),
            fpt_event("contact.updated", at=20),
        ]
        for index in order:
            post_webhook("fpt", events[index])
        tombstone = self.tombstone()
        assert tombstone["needs_refresh"] is True
        assert (tombstone["status_id"], tombstone["status"], tombstone["remote_updated_at"]) == (None, "", None)
        assert sorted(tombstone["field_versions"]) == ["_deleted", "_refresh"]
        assert tombstone["field_versions"]["_refresh"][0] == "2026-04-19T15:00:20.000000Z"

    @pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
    def test_deletion_after_every_update_leaves_a_tombstone_needing_nothing(self, post_webhook, order):
        events = [status_change(3, at=1), fpt_event("contact.updated", at=2), fpt_event("contact.deleted", at=10)]
        for index in order:
            post_webhook("fpt", events[index])
        assert self.tombstone()["needs_refresh"] is False
        assert self.tombstone()["field_versions"] == {"_deleted": ["2026-04-19T15:00:10.000000Z", events[2]["eventId"]]}

    def test_deletion_newer_than_a_pending_reactivation_cancels_it(self, post_webhook):
        post_webhook("fpt", fpt_event("contact.deleted", at=10))
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        post_webhook("fpt", fpt_event("contact.deleted", at=30))
        assert self.tombstone()["needs_refresh"] is False
        assert sorted(self.tombstone()["field_versions"]) == ["_deleted"]
