"""Failed contact look-ups: retried with backoff, inline right after the change and with workers by
``webhook_worker``, without a message that could hold personal data."""

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.models import Contact
from contacts.services import refresh
from tests.contacts.fpt_events import (
    KEY,
    fpt_contact,
    fpt_event,
    snapshot,
)
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

class TestRetries:
    def test_failed_look_up_backs_off_and_records_no_message(self, post_webhook, fake_fetcher, caplog):
        fake_fetcher.failures = 1
        fake_fetcher.error_message = "no contact Maria Silva +5547991234567"
        fake_fetcher.states[KEY] = snapshot(at=30, status_id=3, status="Members")
        with caplog.at_level(logging.INFO):
            post_webhook("fpt", fpt_event("contact.updated", at=20))
        contact = fpt_contact()
        assert contact.needs_refresh is True
        assert contact.refresh_attempts == 1
        expected_due = timezone.now() + timedelta(seconds=30)
        assert abs((contact.refresh_due_at - expected_due).total_seconds()) < 5
        assert "builtins.ConnectionError" in caplog.text
        assert "Maria" not in caplog.text and "5547" not in caplog.text
        # Not retried in a loop: the retry waits for its time.
        assert fake_fetcher.calls == [KEY]

    def test_inline_retries_come_from_refresh_contacts_once_due(self, post_webhook, fake_fetcher):
        fake_fetcher.failures = 1
        fake_fetcher.states[KEY] = snapshot(at=30, status_id=3, status="Members")
        post_webhook("fpt", fpt_event("contact.updated", at=20))

        call_command("refresh_contacts")
        assert len(fake_fetcher.calls) == 1  # still backing off

        Contact.objects.update(refresh_due_at=timezone.now() - timedelta(seconds=1))
        call_command("refresh_contacts")
        contact = fpt_contact()
        assert len(fake_fetcher.calls) == 2
        assert (contact.status_id, contact.needs_refresh, contact.refresh_attempts, contact.refresh_due_at) == (
            3, False, 0, None
        )  # fmt: skip

    def test_a_new_signal_during_backoff_waits_for_the_retry(self, post_webhook, fake_fetcher):
        fake_fetcher.failures = 1
        post_webhook("fpt", fpt_event("contact.updated", at=20))
        post_webhook("fpt", fpt_event("contact.updated", at=21))
        assert len(fake_fetcher.calls) == 1

    def test_the_worker_retries_a_failed_look_up_only_once_its_backoff_is_over(
        self, worker_mode, fake_fetcher, run_worker_once
    ):
        ContactFactory(provider="fpt", account_id="48213", external_id="9917342", needs_refresh=True)
        fake_fetcher.failures = 2
        fake_fetcher.states[KEY] = snapshot(at=30, status_id=3, status="Members")

        run_worker_once()
        contact = fpt_contact()
        assert (len(fake_fetcher.calls), contact.refresh_attempts) == (1, 1)
        assert abs((contact.refresh_due_at - (timezone.now() + timedelta(seconds=30))).total_seconds()) < 5

        run_worker_once()  # still backing off
        assert len(fake_fetcher.calls) == 1

        Contact.objects.update(refresh_due_at=timezone.now() - timedelta(seconds=1))
        run_worker_once()
        contact = fpt_contact()
        assert (len(fake_fetcher.calls), contact.refresh_attempts) == (2, 2)
        assert abs((contact.refresh_due_at - (timezone.now() + timedelta(seconds=60))).total_seconds()) < 5

        Contact.objects.update(refresh_due_at=timezone.now() - timedelta(seconds=1))
        run_worker_once()
        contact = fpt_contact()
        assert (contact.status_id, contact.needs_refresh, contact.refresh_attempts) == (3, False, 0)

    def test_a_look_up_claimed_by_a_worker_that_died_is_due_again_after_its_lease(self, fake_fetcher, settings):
        contact = ContactFactory(provider="fpt", account_id="48213", external_id="9917342", needs_refresh=True)
        Contact.objects.update(refresh_due_at=timezone.now() + refresh.REFRESH_LEASE)  # claimed, then killed
        assert refresh.refresh_due_contacts(limit=10) == 0
        Contact.objects.update(refresh_due_at=timezone.now() - timedelta(seconds=1))  # the lease is over
        assert refresh.refresh_due_contacts(limit=10) == 1
        assert fake_fetcher.calls == [KEY]
        contact.refresh_from_db()
        assert contact.needs_refresh is False

    def test_backoff_doubles_up_to_a_cap(self, settings):
        settings.CONTACT_REFRESH_BACKOFF_SECONDS = 30
        assert [refresh.refresh_backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
        assert refresh.refresh_backoff(30) == refresh.REFRESH_BACKOFF_CAP_SECONDS

    def test_gives_up_after_the_maximum_attempts(self, fake_fetcher, settings):
        settings.CONTACT_REFRESH_MAX_ATTEMPTS = 3
        contact = ContactFactory(provider="fpt", account_id="48213", external_id="9917342", needs_refresh=True)
        fake_fetcher.failures = 10
        results = [refresh.refresh_contact(contact_id=contact.pk) for _ in range(3)]
        assert [r.retry_in for r in results] == [30, 60, None]
        assert results[-1].reason == "builtins.ConnectionError; gave up after 3 attempts"
        contact.refresh_from_db()
        assert (contact.refresh_attempts, contact.refresh_due_at, contact.needs_refresh) == (3, None, True)
        assert not refresh.contacts_due_for_refresh(now=timezone.now() + timedelta(days=1)).exists()

    def test_a_fetcher_returning_something_else_counts_as_a_failure(self, fake_fetcher):
        contact = ContactFactory(provider="fpt", account_id="48213", external_id="9917342", needs_refresh=True)
        fake_fetcher.states[KEY] = {"name": "Maria"}
        result = refresh.refresh_contact(contact_id=contact.pk)
        assert (result.status, result.reason) == ("failed", "builtins.TypeError; attempt 1, retry in 30s")

    def test_a_value_the_contact_cannot_hold_is_skipped_and_named_and_the_rest_applies(self, fake_fetcher):
        contact = ContactFactory(provider="fpt", account_id="48213", external_id="9917342", needs_refresh=True)
        fake_fetcher.states[KEY] = snapshot(at=30, name="Maria", status_id="three")
        result = refresh.refresh_contact(contact_id=contact.pk)
        assert result.status == "refreshed"
        assert "values that cannot be stored skipped: status_id" in result.reason
        contact.refresh_from_db()
        assert (contact.name, contact.status_id, contact.needs_refresh) == ("Maria", None, False)
