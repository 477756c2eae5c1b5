"""What a webhook writes to the log: one line per event with its id and status, nothing else of it."""

import logging

import pytest

pytestmark = pytest.mark.django_db


def test_a_processed_webhook_logs_one_line(post_webhook, timely_fixture, caplog):
    with caplog.at_level(logging.INFO):
        response = post_webhook("timely", timely_fixture("contact.created"))

    assert response.status_code == 200
    event_pk = response.json()["event"]
    assert [r.getMessage() for r in caplog.records if r.name == "webhooks.processing"] == [
        f"webhook event {event_pk} processed"
    ]


def test_processing_that_breaks_is_logged_with_its_class_and_the_delivery_stands(
    post_webhook, timely_fixture, caplog, monkeypatch
):
    def broken(events, **options):
        raise RuntimeError("boom")

    monkeypatch.setattr("webhooks.processing.applied_outcomes", broken)
    with caplog.at_level(logging.INFO):
        response = post_webhook("timely", timely_fixture("contact.created"))

    assert response.status_code == 200  # stored; it stays due for the worker
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "builtins.RuntimeError" in errors[0] and "boom" not in errors[0]


def test_management_commands_print_no_django_axes_banner():
    from tests.config.test_health_and_settings import run_manage

    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.local")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "AXES" not in result.stdout + result.stderr
