"""``prune_webhook_events``: old payloads go, rows and dedupe keys stay, each run leaves a record."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import QuerySet
from django.utils import timezone

from tests.conftest import load_fixture
from tests.factories import WebhookEventFactory as AnyEventFactory
from webhooks.models import PayloadPurge, WebhookEvent
from webhooks.retention import purge_old_payloads

pytestmark = pytest.mark.django_db


class WebhookEventFactory(AnyEventFactory):
    """An event whose work is done: what retention drops (pending work keeps its payload, tested below)."""

    status = "processed"


def prune(*args, stderr=None) -> str:
    out = io.StringIO()
    call_command("prune_webhook_events", *args, stdout=out, stderr=stderr or io.StringIO())
    return out.getvalue()


def test_payloads_older_than_the_retention_are_dropped_and_the_rows_kept(settings):
    settings.PAYLOAD_RETENTION_DAYS = 30
    now = timezone.now()
    old = WebhookEventFactory(received_at=now - timedelta(days=31), body=b'{"data": {"name": "Ana"}}')
    recent = WebhookEventFactory(received_at=now - timedelta(days=29), body=b'{"data": {"name": "Bia"}}')
    output = prune()
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.body is None and old.payload_purged_at is not None and old.payload is None
    assert (old.dedupe_key, old.status, old.external_id) != ("", "", "")
    assert bytes(recent.body) == b'{"data": {"name": "Bia"}}' and recent.payload_purged_at is None
    purge = PayloadPurge.objects.get()
    assert (purge.events, purge.by) == (1, "cli")
    assert now - timedelta(days=30, seconds=5) < purge.cutoff < now - timedelta(days=29, hours=23)
    assert output.startswith("Purged 1 payload(s) received before ")


def test_days_option_overrides_the_setting_and_runs_that_purge_nothing_are_recorded_too():
    WebhookEventFactory(received_at=timezone.now() - timedelta(days=3))
    prune("--days", "5")
    prune("--days", "2")
    assert list(PayloadPurge.objects.order_by("purged_at", "id").values_list("events", flat=True)) == [0, 1]
    assert WebhookEvent.objects.get().body is None


def test_a_redelivery_after_the_purge_is_still_a_duplicate(post_webhook):
    payload = load_fixture("timely", "contact.created")
    first = post_webhook("timely", payload).json()["event"]
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(days=100))
    prune()
    assert post_webhook("timely", payload).json() == {"status": "duplicate", "event": first}
    assert WebhookEvent.objects.count() == 1


def test_negative_days_are_refused():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        prune("--days", "-1")
    assert not PayloadPurge.objects.exists()


def test_a_large_purge_goes_in_batches_with_progress_and_one_record(settings, monkeypatch):
    monkeypatch.setattr("webhooks.retention.PURGE_BATCH_SIZE", 2)
    old = timezone.now() - timedelta(days=120)
    WebhookEventFactory.create_batch(5, received_at=old)
    progress = io.StringIO()
    prune("--days", "90", stderr=progress)
    assert not WebhookEvent.objects.filter(body__isnull=False).exists()
    assert list(PayloadPurge.objects.values_list("events", flat=True)) == [5]
    lines = progress.getvalue().splitlines()
    assert lines[0].startswith("purging: 0/5 payloads") and lines[-1].startswith("purging: 5/5 payloads")


def test_an_interrupted_purge_records_exactly_what_it_dropped(monkeypatch):
    old = timezone.now() - timedelta(days=120)
    WebhookEventFactory.create_batch(5, received_at=old)
    real_update = QuerySet.update
    calls = []

    def update_failing_on_the_third_batch(queryset, **values):
        calls.append(values)
        if len(calls) == 3:
            raise RuntimeError("the process was stopped")
        return real_update(queryset, **values)

    monkeypatch.setattr(QuerySet, "update", update_failing_on_the_third_batch)
    with pytest.raises(RuntimeError):
        purge_old_payloads(older_than_days=90, by="cli", batch_size=2)
    monkeypatch.undo()
    assert PayloadPurge.objects.get().events == 2 == WebhookEvent.objects.filter(body__isnull=True).count()


def test_pending_events_and_failed_deletions_keep_their_payload_past_the_retention(settings):
    # Pruning them would turn work still to do into "payload was purged": a deletion that never erases.
    settings.PAYLOAD_RETENTION_DAYS = 30
    long_ago = timezone.now() - timedelta(days=31)
    pending = WebhookEventFactory(received_at=long_ago, status="received", body=b'{"data": {}}')
    failed_deletion = WebhookEventFactory(
        received_at=long_ago, status="failed", erasure=True, event_type="contact.deleted", body=b'{"data": {}}'
    )
    failed_update = WebhookEventFactory(received_at=long_ago, status="failed", body=b'{"data": {"name": "Ana"}}')
    prune()
    for kept in (pending, failed_deletion):
        kept.refresh_from_db()
        assert kept.body is not None and kept.payload_purged_at is None
    failed_update.refresh_from_db()
    assert failed_update.body is None
    assert PayloadPurge.objects.get().events == 1
