"""What an immediate-backend webhook writes to the log: our own line per event, not django-tasks' task
state lines on top (the task runs inside the request); a failing task is still logged."""

import logging

import pytest

from tests.config.test_health_and_settings import run_manage

pytestmark = pytest.mark.django_db


def test_a_processed_webhook_logs_one_line_and_no_task_state(post_webhook, timely_fixture, caplog):
    with caplog.at_level(logging.INFO):
        response = post_webhook("timely", timely_fixture("contact.created"))

    assert response.status_code == 200
    event_pk = response.json()["event"]
    assert [r.getMessage() for r in caplog.records if r.name == "webhooks.processing"] == [
        f"webhook event {event_pk} processed"
    ]
    assert [r for r in caplog.records if r.name.startswith("django_tasks")] == []


def test_a_failing_task_is_still_logged_by_django_tasks(post_webhook, timely_fixture, caplog, monkeypatch):
    def broken(event_pk):
        raise RuntimeError("boom")

    monkeypatch.setattr("webhooks.tasks.process_event", broken)
    with caplog.at_level(logging.INFO):
        response = post_webhook("timely", timely_fixture("contact.created"))

    assert response.status_code == 200  # stored; the failure is the task's
    failures = [r for r in caplog.records if r.name.startswith("django_tasks") and r.levelno >= logging.ERROR]
    assert len(failures) == 1 and "WebhookTaskError" in (failures[0].exc_text or str(failures[0].exc_info))


@pytest.mark.parametrize(("backend", "level"), [("immediate", "WARNING"), ("database", None)])
def test_task_state_lines_are_quiet_only_with_the_immediate_backend(backend, level):
    result = run_manage(
        "shell", "-c",
        "import logging; print(logging.getLevelName(logging.getLogger('django_tasks').level))",
        DJANGO_SETTINGS_MODULE="config.settings.local", TASKS_BACKEND=backend,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (level or "NOTSET")
