"""Application logs never carry personal data: not while a whole webhook flow runs, not in failures, not
in what a failed event stores (its status reason), inline or in the worker."""

import copy
import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.core.management import call_command

import contacts.services.last_write_wins
from config.ops.log_context import ContextFilter
from tests.conftest import load_fixture
from tests.database_dump import found_in
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db

NAME, PHONE, EMAIL = "Iracema Fagundes Lobo", "+5551993332211", "iracema.lobo@exemplo.com.br"
TAG, CUSTOM = "inadimplente-iracema", "Contrato 7781-Iracema"
PERSONAL = [NAME, PHONE, PHONE.lstrip("+"), "993332211", EMAIL, TAG, CUSTOM]


def created(event_id):
    payload = load_fixture("timely", "contact.created")
    payload["event_id"] = event_id
    payload["data"].update(contact_id="cont_ira", name=NAME, phone=PHONE, email=EMAIL, tags=[TAG],
                           custom_fields={"contrato": CUSTOM})  # fmt: skip
    return payload


def updated(event_id, changes, at):
    payload = load_fixture("timely", "contact.updated")
    payload.update(event_id=event_id, timestamp=at)
    payload["data"].update(contact_id="cont_ira", changes=changes, updated_at=at)
    return payload


def deleted(event_id):
    payload = load_fixture("timely", "contact.deleted")
    payload["event_id"] = event_id
    payload["data"].update(contact_id="cont_ira", name=NAME, phone=PHONE, email=EMAIL)
    return payload


@pytest.fixture
def noisy_normalizer(monkeypatch):
    """A library error that quotes the value it choked on, as many do (phonenumbers, json, dateutil...)."""
    original = contacts.services.last_write_wins.normalize_field

    def normalize_field(name, raw):
        if name == "name" and isinstance(raw, str) and raw.startswith("!"):
            raise ValueError(f"cannot read name {raw!r} for {EMAIL}")
        return original(name, raw)

    monkeypatch.setattr(contacts.services.last_write_wins, "normalize_field", normalize_field)


@pytest.fixture
def every_log_record(caplog):
    """Every record of every logger, at DEBUG. Django's loggers stop at INFO by default and some do not
    propagate to the root, where caplog listens: open and hook them all. SQL logging (django.db.backends)
    only exists with DEBUG on, which production refuses."""
    caplog.set_level(logging.DEBUG)
    hooked = []
    names = {"django", "django.request", "django.server", "django.security", "webhooks", "contacts",
             *logging.root.manager.loggerDict}  # fmt: skip
    for name in sorted(names):
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            hooked.append(logger)
    yield caplog
    for logger in hooked:
        logger.removeHandler(caplog.handler)


def log_text(caplog) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            lines.append(record.stack_info)
    return "\n".join(lines)


def run_whole_flow(post_webhook, client):
    assert post_webhook("timely", created("evt_i1")).status_code == 200
    update = updated("evt_i2", {"tags": {"before": [TAG], "after": [TAG, "novo"]}}, "2026-04-19T15:00:00Z")
    assert post_webhook("timely", update).status_code == 200
    failing = updated("evt_i3", {"name": {"before": NAME, "after": f"!{NAME}"}}, "2026-04-19T15:05:00Z")
    assert post_webhook("timely", failing).status_code == 200
    assert WebhookEvent.objects.get(event_id="evt_i3").status == WebhookEventStatus.FAILED
    # Refused deliveries are logged without their body.
    assert post_webhook("timely", created("evt_forged"), sign=False).status_code == 401
    assert post_webhook("timely", b'{"event": "' + NAME.encode() + b'"').status_code == 400
    assert post_webhook("timely", created("evt_i1")).json()["status"] == "duplicate"
    assert post_webhook("timely", deleted("evt_i4")).status_code == 200
    late = updated("evt_i5", {"email": {"before": "", "after": EMAIL}}, "2026-04-19T18:00:00Z")
    assert post_webhook("timely", late).status_code == 200
    call_command("reprocess_webhook_events", "--status", "failed")
    call_command("reprocess_webhook_events", "--status", "ignored")


def test_logs_hold_no_personal_data_through_a_whole_webhook_flow(post_webhook, client, noisy_normalizer,
                                                                 every_log_record):  # fmt: skip
    run_whole_flow(post_webhook, client)
    text = log_text(every_log_record)
    assert "webhook event" in text and "erased contact" in text  # the flow did log
    assert found_in(text, PERSONAL) == []


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_each_log_format_holds_no_personal_data_through_a_whole_webhook_flow(post_webhook, client, noisy_normalizer,
                                                                            every_log_record, log_format):  # fmt: skip
    """The lines as written: each record through the configured formatter, context fields and all."""
    every_log_record.handler.addFilter(ContextFilter())
    formatter_config = copy.deepcopy(settings.LOGGING["formatters"][log_format])
    formatter = logging.config.DictConfigurator({}).configure_formatter(formatter_config)
    run_whole_flow(post_webhook, client)
    lines = [formatter.format(record) for record in every_log_record.records]
    text = "\n".join(lines)
    assert "webhook event" in text and "erased contact" in text  # the flow did log
    if log_format == "json":
        objects = [json.loads(line) for line in text.splitlines()]  # one object per line, tracebacks included
        assert len(objects) == len(lines)
        assert {"timestamp", "level", "logger", "message"} <= set(objects[0])
        assert any(o.get("provider") == "timely" and o.get("request_id") for o in objects)  # the view's lines
        assert any(o.get("event_id") and o["logger"] == "webhooks.processing" for o in objects)
    assert found_in(text, PERSONAL) == []


def test_failure_stored_on_the_event_names_the_error_class_and_place_not_its_message(post_webhook,
                                                                                    noisy_normalizer):  # fmt: skip
    post_webhook("timely", created("evt_i1"))
    post_webhook("timely", updated("evt_i3", {"name": {"before": NAME, "after": f"!{NAME}"}}, "2026-04-19T15:05:00Z"))
    event = WebhookEvent.objects.get(event_id="evt_i3")
    assert event.status == WebhookEventStatus.FAILED
    assert event.status_reason.startswith("builtins.ValueError at test_personal_data_stays_out_of_logs")
    assert found_in(event.status_reason, PERSONAL) == []


def test_a_batch_that_crashes_stores_and_logs_no_message_that_could_quote_data(
    worker_mode, post_webhook, monkeypatch, every_log_record, run_worker_once
):
    def crash(batch, event):
        raise RuntimeError(f"database said: duplicate key (email)=({EMAIL}), name {NAME}")

    monkeypatch.setattr("contacts.services.sync.ContactBatch.apply", crash)
    post_webhook("timely", created("evt_i1"))
    run_worker_once()

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.FAILED
    assert event.status_reason.startswith("builtins.RuntimeError at test_personal_data_stays_out_of_logs_and_tasks.py")
    assert found_in(event.status_reason, PERSONAL) == []
    assert found_in(log_text(every_log_record), PERSONAL) == []


def test_inline_processing_that_crashes_logs_no_message_either(post_webhook, monkeypatch, every_log_record):
    def crash(events, **options):
        raise RuntimeError(f"cannot process {EMAIL}")

    monkeypatch.setattr("webhooks.processing.applied_outcomes", crash)
    assert post_webhook("timely", created("evt_i1")).status_code == 200
    text = log_text(every_log_record)
    assert "RuntimeError" in text
    assert found_in(text, PERSONAL) == []
