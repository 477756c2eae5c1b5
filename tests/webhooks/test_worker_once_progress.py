"""``webhook_worker --once`` on a backlog shows its progress: whole lines in a log, a bar on a terminal."""

import io

import pytest
from django.core.management import call_command

from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def backlog(worker_mode, post_webhook, timely_fixture):
    for name in ("contact.created", "contact.updated", "conversation.created"):
        post_webhook("timely", timely_fixture(name))
    assert WebhookEvent.objects.filter(status="received").count() == 3


def drain(stderr) -> str:
    out = io.StringIO()
    call_command("webhook_worker", "--once", "--batch-size", "2", stdout=out, stderr=stderr)
    return out.getvalue()


def test_draining_a_backlog_writes_progress_lines_with_the_rate(backlog):
    log = io.StringIO()
    assert drain(log) == "3 event(s) applied\n"
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0].startswith("applying due events: 0/3 events")
    assert lines[-1].startswith("applying due events: 3/3 events") and "events/s]" in lines[-1]
    assert not WebhookEvent.objects.filter(status="received").exists()


def test_on_a_terminal_the_drain_is_a_bar(backlog):
    terminal = Terminal()
    drain(terminal)
    frames = terminal.getvalue().split("\r")
    assert "100%|" in frames[-1] and "3/3 [" in frames[-1]
