"""`manage.py reprocess_webhook_events`: replays in batches, shows progress, ends with a summary."""

import io

import pytest
from django.core.management import CommandError, call_command

from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)  # replays run after a real commit


def run(*args, stderr=None):
    out = io.StringIO()
    call_command("reprocess_webhook_events", *args, stdout=out, stderr=stderr or io.StringIO())
    return out.getvalue()


class Terminal(io.StringIO):
    def isatty(self):
        return True


def failed_events(post_webhook, timely_fixture):
    ids = []
    for name in ("contact.created", "contact.updated", "conversation.created"):
        ids.append(post_webhook("timely", timely_fixture(name)).json()["event"])
    WebhookEvent.objects.filter(pk__in=ids).update(status="failed")
    return ids


def test_failed_events_are_replayed_with_progress_and_a_summary(post_webhook, timely_fixture):
    failed_events(post_webhook, timely_fixture)

    progress = io.StringIO()
    output = run("--batch-size", "2", stderr=progress)

    assert output.splitlines() == ["Reprocessing 3 event(s)", "Reprocessed 3 event(s): 2 processed, 1 ignored"]
    assert not WebhookEvent.objects.filter(status="failed").exists()
    # Not a terminal (cron, CI): whole lines, the last one with the rate and nothing left.
    lines = progress.getvalue().splitlines()
    assert "\r" not in progress.getvalue()
    assert lines[0].startswith("reprocessing: 0/3 events") and lines[-1].startswith("reprocessing: 3/3 events")
    assert "00:00 left" in lines[-1] and "events/s]" in lines[-1]


def test_on_a_terminal_progress_is_a_bar_with_rate_and_time_left(post_webhook, timely_fixture):
    failed_events(post_webhook, timely_fixture)
    terminal = Terminal()

    run("--batch-size", "2", stderr=terminal)

    frames = terminal.getvalue().split("\r")
    assert len(frames) >= 3  # redrawn in place
    assert "100%|" in frames[-1] and "3/3 [" in frames[-1] and "events/s]" in frames[-1]


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
