"""Pluggable contact fetchers: 'look it up' signals filled from the provider's current state, by
last-write-wins, with failed look-ups retried with backoff: inline right after the change, with workers
by ``webhook_worker`` (contacts due for a refresh are its second queue)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Contact, ErasureRecord
from contacts.services import refresh
from tests.contacts.fpt_events import (
    BASE_TIME,
    FULL_STATE,
    KEY,
    fpt_contact,
    fpt_event,
    snapshot,
    status_change,
    sub_group_change,
)
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

class TestWithoutFetcher:
    def test_signals_only_mark_needs_refresh_and_nothing_is_looked_up(self, post_webhook, settings):
        assert settings.CONTACT_FETCHERS == {}
        post_webhook("fpt", fpt_event("contact.updated"))
        contact = fpt_contact()
        assert contact.needs_refresh is True
        result = refresh.refresh_contact(contact_id=contact.pk)
        assert result == refresh.RefreshResult("skipped", "no contact fetcher configured for fpt")
        assert fpt_contact().needs_refresh is True

    def test_fetcher_setting_is_read_from_fpt_contact_fetcher(self, monkeypatch):
        import importlib

        from config.settings import base

        monkeypatch.setenv("FPT_CONTACT_FETCHER", "myproject.fpt_api.fetch_contact")
        assert importlib.reload(base).CONTACT_FETCHERS == {"fpt": "myproject.fpt_api.fetch_contact"}
        monkeypatch.delenv("FPT_CONTACT_FETCHER")
        assert importlib.reload(base).CONTACT_FETCHERS == {}


class TestLookUp:
    def test_updated_signal_fills_the_contact_from_the_fetched_state(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = snapshot(at=30, **FULL_STATE)
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        assert fake_fetcher.calls == [KEY]
        contact = fpt_contact()
        assert contact.needs_refresh is False
        assert (contact.name, contact.phone, contact.email) == (
            "Maria Eduarda Silva", "+5547991234567", "maria.silva@exemplo.com.br"
        )  # fmt: skip
        assert (contact.status_id, contact.status, contact.sub_group_id) == (3, "Members", "5521")
        assert (contact.can_sms, contact.can_email, contact.can_call) == (True, False, None)
        assert contact.tags == ["musculacao", "plano-anual"] and contact.assigned_to == "812"
        assert contact.last_sms_in_at.isoformat() == "2026-04-18T10:00:00+00:00"
        assert contact.last_call_at is None
        assert contact.remote_updated_at == BASE_TIME + timedelta(seconds=30)
        assert (contact.refresh_attempts, contact.refresh_due_at) == (0, None)

    def test_newer_typed_change_beats_an_older_fetched_state(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = snapshot(at=25, **{**FULL_STATE, "status_id": 2, "status": "Prospects"})
        post_webhook("fpt", status_change(4, at=40))
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        contact = fpt_contact()
        assert (contact.status_id, contact.status) == (4, "Past Members")
        assert contact.name == "Maria Eduarda Silva"
        assert contact.needs_refresh is False

    def test_newer_fetched_state_beats_an_older_typed_change_arriving_late(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = snapshot(at=50, sub_group_id="9")
        post_webhook("fpt", fpt_event("contact.updated", at=45))
        post_webhook("fpt", sub_group_change(3, at=30))
        assert fpt_contact().sub_group_id == "9"

    def test_state_older_than_the_newest_signal_leaves_needs_refresh_set(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = snapshot(at=30, name="Maria")
        post_webhook("fpt", fpt_event("contact.updated", at=40))
        contact = fpt_contact()
        assert contact.name == "Maria"
        assert contact.needs_refresh is True
        assert contact in refresh.contacts_due_for_refresh(now=timezone.now())

    def test_contact_not_found_upstream_clears_needs_refresh_and_keeps_its_values(self, post_webhook, fake_fetcher):
        post_webhook("fpt", status_change(3, at=1))
        post_webhook("fpt", fpt_event("contact.updated", at=2))
        contact = fpt_contact()
        assert (contact.needs_refresh, contact.status_id) == (False, 3)

    def test_fetched_state_uses_our_field_names_only(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = snapshot(at=30, name="Maria", firstName="Maria", notes="not theirs")
        ContactFactory(provider="fpt", account_id="48213", external_id="9917342", notes="ours")
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        contact = fpt_contact()
        assert (contact.name, contact.notes) == ("Maria", "ours")

    def test_with_workers_the_request_only_marks_and_the_worker_looks_up(
        self, worker_mode, post_webhook, fake_fetcher, run_worker_once
    ):
        fake_fetcher.states[KEY] = snapshot(at=30, name="Maria")
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        assert fake_fetcher.calls == []
        assert run_worker_once() == 1  # the event
        assert fake_fetcher.calls == [KEY]
        contact = fpt_contact()
        assert (contact.name, contact.needs_refresh, contact.refresh_due_at) == ("Maria", False, None)

    def test_refresh_now_from_staff_is_looked_up_by_the_worker(self, worker_mode, fake_fetcher, run_worker_once):
        contact = ContactFactory(provider="fpt", account_id="48213", external_id="9917342")
        fake_fetcher.states[KEY] = snapshot(at=30, name="Maria")
        queued, skipped = refresh.request_refresh(contacts=Contact.objects.filter(pk=contact.pk))
        assert (queued, skipped, fake_fetcher.calls) == ([contact.pk], 0, [])
        run_worker_once()
        assert fake_fetcher.calls == [KEY] and fpt_contact().name == "Maria"


class TestReactivatedTombstones:
    def deleted_then_reactivated(self, post_webhook):
        post_webhook("fpt", status_change(3, at=1))
        post_webhook("fpt", fpt_event("contact.deleted", at=10))
        post_webhook("fpt", fpt_event("contact.updated", at=20))

    def test_look_up_after_reactivation_brings_the_contact_back_from_its_current_state(
        self, post_webhook, fake_fetcher
    ):
        fake_fetcher.states[KEY] = snapshot(at=20, name="Maria", status_id=5, status="Non-members")
        self.deleted_then_reactivated(post_webhook)
        contact = fpt_contact()
        assert contact.erased_at is None and contact.needs_refresh is False
        assert (contact.name, contact.status_id) == ("Maria", 5)
        assert ErasureRecord.objects.count() == 1  # the erasure stays on record

    def test_nothing_from_before_the_deletion_comes_back_after_reactivation(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = snapshot(at=20, name="Maria")
        self.deleted_then_reactivated(post_webhook)
        post_webhook("fpt", sub_group_change(44, at=5))
        assert fpt_contact().sub_group_id == ""

    def test_state_from_before_the_deletion_does_not_reactivate(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = snapshot(at=9, name="Maria")
        self.deleted_then_reactivated(post_webhook)
        contact = fpt_contact()
        assert contact.is_erased and contact.name == ""

    def test_tombstone_not_found_upstream_stays_erased(self, post_webhook, fake_fetcher):
        self.deleted_then_reactivated(post_webhook)
        contact = fpt_contact()
        assert contact.is_erased and contact.needs_refresh is False

    def test_data_subject_erasure_is_never_undone_by_a_look_up(self, post_webhook, fake_fetcher, erase):
        fake_fetcher.states[KEY] = snapshot(at=20, name="Maria")
        contact = ContactFactory(provider="fpt", account_id="48213", external_id="9917342")
        erase(contact, requested_by="dpo", requested_by_type="cli", reference="DSR-1")
        # Flagged however it happened (an admin, an older reactivation): the erasure still stands.
        Contact.objects.filter(pk=contact.pk).update(needs_refresh=True)
        result = refresh.refresh_contact(contact_id=contact.pk)
        assert result.reason == "contact was erased on a data-subject request"
        contact.refresh_from_db()
        assert contact.is_erased and contact.name == "" and contact.needs_refresh is False
        assert fake_fetcher.calls == []


def test_erasure_on_request_during_a_look_up_wins_over_its_result(post_webhook, fake_fetcher, monkeypatch, erase):
    post_webhook("fpt", fpt_event("contact.deleted", at=10))
    tombstone = fpt_contact()
    Contact.objects.filter(pk=tombstone.pk).update(needs_refresh=True)  # reactivated upstream

    def erase_while_fetching(**ids):
        erase(tombstone, requested_by="dpo", requested_by_type="cli", reference="DSR-1")
        return snapshot(at=30, name="Maria")

    monkeypatch.setattr(refresh, "contact_fetcher", lambda provider: erase_while_fetching)
    result = refresh.refresh_contact(contact_id=tombstone.pk)
    assert result.reason == "contact was erased while it was looked up"
    assert fpt_contact().is_erased and fpt_contact().name == ""


class TestReactivationOrder:
    @pytest.mark.parametrize("deletion_first", [True, False])
    def test_reactivation_converges_whichever_of_deletion_and_update_arrives_first(
        self, post_webhook, fake_fetcher, deletion_first
    ):
        fake_fetcher.states[KEY] = snapshot(at=20, name="Maria", status_id=3, status="Members")
        deletion, update = fpt_event("contact.deleted", at=10), fpt_event("contact.updated", at=20)
        for payload in (deletion, update) if deletion_first else (update, deletion):
            post_webhook("fpt", payload)
        contact = fpt_contact()
        assert contact.erased_at is None and contact.needs_refresh is False
        assert (contact.name, contact.status) == ("Maria", "Members")
        assert ErasureRecord.objects.count() == 1

    def test_a_deletion_older_than_the_last_one_does_not_erase_a_reactivated_contact(self, post_webhook, fake_fetcher):
        fake_fetcher.states[KEY] = snapshot(at=20, name="Maria")
        post_webhook("fpt", fpt_event("contact.deleted", at=10))
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        post_webhook("fpt", fpt_event("contact.deleted", at=5))
        contact = fpt_contact()
        assert contact.erased_at is None and contact.name == "Maria"
        assert ErasureRecord.objects.count() == 1


class TestFetcherChecks:
    def run_checks(self):
        from contacts.checks import check_contact_fetchers

        return [problem.id for problem in check_contact_fetchers(None)]

    def test_configured_test_fetcher_passes(self, fake_fetcher):
        assert self.run_checks() == []

    def test_fetcher_that_cannot_be_imported_is_an_error(self, settings):
        settings.CONTACT_FETCHERS = {"fpt": "myproject.nowhere.fetch_contact"}
        assert self.run_checks() == ["contacts.E001"]

    def test_fetcher_that_is_not_callable_is_an_error(self, settings):
        settings.CONTACT_FETCHERS = {"fpt": "contacts.services.last_write_wins.SNAPSHOT_DEDUPE_KEY"}
        assert self.run_checks() == ["contacts.E002"]

    def test_fetcher_for_an_unknown_provider_is_a_warning(self, settings):
        settings.CONTACT_FETCHERS = {"hubspot": "tests.contacts.fake_fetcher.fetch_contact"}
        assert self.run_checks() == ["contacts.W001"]
