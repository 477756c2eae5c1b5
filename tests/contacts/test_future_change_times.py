"""Time sanity: a change dated later than its delivery's receipt plus WEBHOOK_TOLERANCE_SECONDS counts as the
receipt time (its status_reason says so), so no future date can freeze a field or make a soft deletion final."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from contacts.models import Contact
from contacts.services import refresh_contact
from tests.conftest import load_fixture
from tests.contacts.fpt_events import BASE_TIME, fpt_event
from webhooks.change_times import FUTURE_CHANGE_REASON
from webhooks.events import ContactSnapshot
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db

FAR_FUTURE = datetime(4026, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def timely_update(event_id: str, updated_at: datetime, name: str) -> dict:
    payload = load_fixture("timely", "contact.updated")
    payload["event_id"] = event_id
    payload["data"].update(updated_at=iso(updated_at), changes={"name": {"before": "", "after": name}})
    return payload


def seconds_after_fpt_base(moment: datetime) -> float:
    return (moment - BASE_TIME).total_seconds()


def event(event_id: str) -> WebhookEvent:
    return WebhookEvent.objects.get(event_id=event_id)


@pytest.mark.parametrize("future", [FAR_FUTURE, datetime(9000, 6, 1, 12, 0, tzinfo=UTC)])
def test_a_timely_change_dated_in_the_future_does_not_freeze_the_field(post_webhook, future):
    post_webhook("timely", load_fixture("timely", "contact.created"))
    post_webhook("timely", timely_update("evt_future", future, "Nome do Futuro"))
    future_event = event("evt_future")
    assert Contact.objects.get().name == "Nome do Futuro", future_event.status_reason  # applied, as of its receipt
    assert future_event.status == WebhookEventStatus.PROCESSED
    assert future_event.status_reason.startswith(FUTURE_CHANGE_REASON)

    post_webhook("timely", timely_update("evt_real", timezone.now() + timedelta(seconds=60), "Ana Costa Ribeiro"))

    assert Contact.objects.get().name == "Ana Costa Ribeiro"
    assert (
        "stale" not in event("evt_real").status_reason and FUTURE_CHANGE_REASON not in event("evt_real").status_reason
    )


def test_a_timely_envelope_timestamp_in_the_future_counts_as_the_receipt(post_webhook):
    created = load_fixture("timely", "contact.created")
    created["timestamp"] = iso(FAR_FUTURE)
    for key in ("created_at", "updated_at"):
        created["data"].pop(key, None)
    post_webhook("timely", created)
    stored = WebhookEvent.objects.get()
    assert stored.occurred_at == FAR_FUTURE  # what arrived is kept as it arrived
    assert stored.status_reason.startswith(FUTURE_CHANGE_REASON)

    post_webhook("timely", timely_update("evt_real", timezone.now() + timedelta(seconds=60), "Ana Costa Ribeiro"))
    assert Contact.objects.get().name == "Ana Costa Ribeiro"


def test_a_change_within_the_tolerance_keeps_its_own_time(post_webhook, settings):
    post_webhook("timely", load_fixture("timely", "contact.created"))
    soon = timezone.now() + timedelta(seconds=settings.WEBHOOK_TOLERANCE_SECONDS - 30)
    post_webhook("timely", timely_update("evt_soon", soon, "Ana C. Ribeiro"))
    post_webhook("timely", timely_update("evt_before_it", soon - timedelta(seconds=1), "Ana Costa Ribeiro"))

    assert Contact.objects.get().name == "Ana C. Ribeiro"
    assert FUTURE_CHANGE_REASON not in event("evt_soon").status_reason
    assert "stale fields skipped: name" in event("evt_before_it").status_reason


def test_an_fpt_deletion_dated_in_the_future_is_not_final(post_webhook):
    post_webhook("fpt", fpt_event("contact.status_changed", at=1, previousStatusId=None, newStatusId=3))
    deletion = fpt_event("contact.deleted", at=seconds_after_fpt_base(FAR_FUTURE))
    post_webhook("fpt", deletion)
    contact = Contact.objects.get()
    assert contact.is_erased
    assert event(deletion["eventId"]).status_reason.startswith(FUTURE_CHANGE_REASON)

    reactivation = fpt_event("contact.updated", at=seconds_after_fpt_base(timezone.now() + timedelta(seconds=60)))
    post_webhook("fpt", reactivation)

    contact.refresh_from_db()
    assert contact.needs_refresh  # reactivated upstream, not "older than the contact's deletion"
    assert event(reactivation["eventId"]).status_reason == "reactivated upstream: marked needs_refresh"


def test_a_looked_up_state_dated_in_the_future_counts_as_read_then(post_webhook, fake_fetcher):
    post_webhook("fpt", fpt_event("contact.created", at=1))
    contact = Contact.objects.get()
    key = (contact.provider, contact.account_id, contact.external_id)
    fake_fetcher.states[key] = ContactSnapshot(fields={"name": "Nome do Futuro"}, as_of=FAR_FUTURE)
    Contact.objects.filter(pk=contact.pk).update(needs_refresh=True)
    result = refresh_contact(contact_id=contact.pk)
    assert "counted as the look-up time" in result.reason
    assert Contact.objects.get().name == "Nome do Futuro"

    Contact.objects.filter(pk=contact.pk).update(needs_refresh=True)
    fake_fetcher.states[key] = ContactSnapshot(
        fields={"name": "Ana Costa"}, as_of=timezone.now() + timedelta(seconds=5)
    )
    refresh_contact(contact_id=contact.pk)

    assert Contact.objects.get().name == "Ana Costa"
