"""`manage.py reprocess_webhook_events`: replays in batches, shows progress, ends with a summary."""

import io

import pytest
from django.core.management import CommandError, call_command

from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)  # replays run after a real commit


def run(*args):
    out = io.StringIO()
    call_command("reprocess_webhook_events", *args, stdout=out)
    return out.getvalue()


def failed_events(post_webhook, timely_fixture):
    ids = []
    for name in ("contact.created", "contact.updated", "conversation.created"):
        ids.append(post_webhook("timely", timely_fixture(name)).json()["event"])
    WebhookEvent.objects.filter(pk__in=ids).update(status="failed")
    return ids


def test_failed_events_are_replayed_with_progress_and_a_summary(post_webhook, timely_fixture):
    failed_events(post_webhook, timely_fixture)

    output = run("--batch-size", "2")

    assert output.splitlines() == [
        "Reprocessing 3 event(s)",
        "  2/3 (66%)",
        "  3/3 (100%)",
        "Reprocessed 3 event(s): 2 processed, 1 ignored",
    ]
    assert not WebhookEvent.objects.filter(status="failed").exists()


def test_events_without_payload_are_counted_as_skipped(post_webhook, timely_fixture):
    first, *_ = failed_events(post_webhook, timely_fixture)
    WebhookEvent.objects.filter(pk=first).update(body=None)

    output = run()

    assert output.splitlines()[0] == "Reprocessing 2 event(s) (1 without payload skipped)"


def test_nothing_to_replay_says_so():
    assert run().splitlines() == ["Reprocessing 0 event(s)", "Reprocessed 0 event(s)"]


def test_unknown_ids_are_refused():
    with pytest.raises(CommandError, match="no such event: 999"):
        run("--id", "999")
