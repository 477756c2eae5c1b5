"""Sync rules 2–8 for Timely, driven through the real endpoint with the provider's own examples."""

import io

import pytest
from django.core.management import call_command

from contacts.models import Contact
from tests.conftest import load_fixture
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db


def created(**data):
    payload = load_fixture("timely", "contact.created")
    payload["data"].update(data)
    return payload


def updated(event_id, updated_at, changes, **data):
    payload = load_fixture("timely", "contact.updated")
    payload["event_id"] = event_id
    payload["data"].update(changes=changes, updated_at=updated_at, **data)
    return payload


def event_for(event_id):
    return WebhookEvent.objects.get(event_id=event_id)


def test_created_fills_every_provided_field_with_phone_in_e164(post_webhook):
    post_webhook("timely", created(phone="(47) 99123-4567", tags=["lead"], custom_fields={"plano": "pro"}))
    contact = Contact.objects.get()
    assert (contact.provider, contact.account_id, contact.external_id) == ("timely", "ws_abc123", "cont_456")
    assert contact.name == "Ana Costa"
    assert contact.phone == "+5547991234567"
    assert contact.email == "ana.costa@exemplo.com.br"
    assert (contact.source, contact.tags, contact.custom_fields) == ("whatsapp", ["lead"], {"plano": "pro"})
    assert contact.remote_created_at.isoformat() == "2026-04-19T14:30:00+00:00"
    assert contact.needs_refresh is False
    assert event_for("evt_01HX5A1K9MFQR4YZDNV7P9WCE").status == WebhookEventStatus.PROCESSED


def test_documented_update_changes_only_the_fields_in_changes(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.created"))
    Contact.objects.update(notes="prefers calls after 18h")
    post_webhook("timely", load_fixture("timely", "contact.updated"))
    contact = Contact.objects.get()
    assert contact.name == "Ana Costa Ribeiro"
    assert contact.tags == ["cliente-vip", "pagamento-pendente"]
    assert contact.custom_fields == {"plano": "pro", "data_contrato": "2026-04-19"}
    assert contact.email == "ana.costa@exemplo.com.br"  # not in changes: untouched
    assert contact.notes == "prefers calls after 18h"  # local field: never touched by sync
    event = event_for("evt_01HX5B3M2PGTS6YADOV8Q1XDF")
    assert event.changed_fields == ["custom_fields", "name", "tags"]
    assert (event.actor_id, event.actor_type) == ("usr_321", "attendant")


def test_redelivered_event_is_applied_once(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.created"))
    post_webhook("timely", load_fixture("timely", "contact.updated"))
    Contact.objects.update(name="edited by hand")
    assert post_webhook("timely", load_fixture("timely", "contact.updated")).json()["status"] == "duplicate"
    assert Contact.objects.get().name == "edited by hand"


def test_older_change_is_skipped_and_named_in_the_status_reason(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.created"))
    post_webhook(
        "timely", updated("evt_new", "2026-04-19T16:00:00Z", {"name": {"before": "Ana Costa", "after": "New"}})
    )
    post_webhook(
        "timely",
        updated(
            "evt_old",
            "2026-04-19T15:00:00Z",
            {"name": {"before": "Ana Costa", "after": "Old"}, "email": {"before": None, "after": "o@x.br"}},
        ),
    )
    contact = Contact.objects.get()
    assert contact.name == "New"
    assert contact.email == "o@x.br"  # its own field was older: applied
    event = event_for("evt_old")
    assert event.status == WebhookEventStatus.PROCESSED
    assert "stale fields skipped: name" in event.status_reason
    assert event.changed_fields == ["email"]


def test_equal_times_are_broken_by_the_dedupe_key_in_any_order(post_webhook):
    same_time = "2026-04-19T15:10:00Z"
    first = updated("evt_a", same_time, {"name": {"after": "A"}})
    second = updated("evt_b", same_time, {"name": {"after": "B"}})
    post_webhook("timely", second)
    post_webhook("timely", first)
    assert Contact.objects.get().name == "B"

    Contact.objects.all().delete()
    WebhookEvent.objects.all().delete()
    post_webhook("timely", first)
    post_webhook("timely", second)
    assert Contact.objects.get().name == "B"


def test_update_for_an_unknown_contact_creates_a_partial_one_that_created_completes(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.updated"))
    partial = Contact.objects.get()
    assert partial.needs_refresh is True
    assert partial.name == "Ana Costa Ribeiro"
    assert partial.email == ""

    post_webhook("timely", load_fixture("timely", "contact.created"))  # late, older than the update
    contact = Contact.objects.get()
    assert contact.needs_refresh is False
    assert contact.name == "Ana Costa Ribeiro"  # the newer update wins over the late created
    assert contact.email == "ana.costa@exemplo.com.br"  # the rest is filled in
    late_created = event_for("evt_01HX5A1K9MFQR4YZDNV7P9WCE")
    assert late_created.status_reason == "stale fields skipped: custom_fields, name, tags"


def test_before_that_differs_from_ours_is_recorded_as_drift(post_webhook):
    post_webhook("timely", created(name="Ana C."))
    post_webhook("timely", load_fixture("timely", "contact.updated"))
    event = event_for("evt_01HX5B3M2PGTS6YADOV8Q1XDF")
    assert event.drift == ["name"]
    assert "drift in: name" in event.status_reason
    assert "Ana" not in event.status_reason  # names only, never values


def test_our_own_api_writes_are_ignored(post_webhook, settings):
    settings.WEBHOOK_PROVIDERS = {
        **settings.WEBHOOK_PROVIDERS,
        "timely": {**settings.WEBHOOK_PROVIDERS["timely"], "IGNORE_ACTORS": ["usr_sync_bot"]},
    }
    post_webhook("timely", load_fixture("timely", "contact.created"))
    post_webhook("timely", updated("evt_echo", "2026-04-19T16:00:00Z", {"name": {"after": "Echo"}},
                                   updated_by="usr_sync_bot", updated_by_type="api"))  # fmt: skip
    post_webhook("timely", updated("evt_agent", "2026-04-19T16:01:00Z", {"email": {"after": "a@b.br"}},
                                   updated_by="usr_sync_bot", updated_by_type="attendant"))  # fmt: skip
    assert event_for("evt_echo").status == WebhookEventStatus.IGNORED
    assert "own API write" in event_for("evt_echo").status_reason
    contact = Contact.objects.get()
    assert contact.name == "Ana Costa"
    assert contact.email == "a@b.br"  # same id, but not an API write: applied


def test_unknown_change_keys_are_ignored_without_failing(post_webhook):
    post_webhook("timely", updated("evt_x", "2026-04-19T16:00:00Z", {"favourite_colour": {"after": "blue"}}))
    assert event_for("evt_x").status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().needs_refresh is True


def test_a_value_that_cannot_be_stored_is_skipped_and_named_and_the_rest_applies(post_webhook):
    payload = created(tags="not-a-list", name="Maria Secreta")
    response = post_webhook("timely", payload)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.status_reason == "values that cannot be stored skipped: tags"
    contact = Contact.objects.get()
    assert (contact.name, contact.tags) == ("Maria Secreta", [])
    assert "tags" not in event.changed_fields and "name" in event.changed_fields


def test_a_failure_is_stored_without_personal_data_and_replayable(
    post_webhook, django_capture_on_commit_callbacks, monkeypatch
):
    import contacts.services.sync

    def unreachable(*args, **kwargs):
        raise RuntimeError("Maria Secreta")  # a bug of ours, with a message that quotes data

    payload = created(name="Maria Secreta")
    with monkeypatch.context() as patch:
        patch.setattr(contacts.services.sync, "apply_fields", unreachable)
        response = post_webhook("timely", payload)
    assert response.status_code == 200  # accepted: the failure is ours to fix, not the provider's
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.FAILED
    assert "Maria" not in event.status_reason
    assert Contact.objects.count() == 0  # nothing half-applied

    output = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reprocess_webhook_events", stdout=output)
    # Inside a test transaction the task runs when the capture block ends, after the summary was taken.
    assert "Reprocessed 1 event(s)" in output.getvalue()
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.attempts == 2
    assert Contact.objects.get().name == "Maria Secreta"


def test_unexpected_exceptions_are_recorded_by_class_and_place_only(post_webhook, monkeypatch):
    import contacts.services.sync

    def explode(*args, **kwargs):
        raise RuntimeError("Ana Costa ana.costa@exemplo.com.br")  # a message that quotes data

    monkeypatch.setattr(contacts.services.sync, "apply_fields", explode)
    post_webhook("timely", load_fixture("timely", "contact.created"))
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.FAILED
    assert event.status_reason.startswith("builtins.RuntimeError at test_timely_sync_rules.py:")
    assert "Ana" not in event.status_reason and "@" not in event.status_reason


def test_a_phone_that_cannot_be_parsed_is_kept_as_sent(post_webhook):
    post_webhook("timely", created(phone="ramal 12"))
    assert Contact.objects.get().phone == "ramal 12"


def test_contacts_are_keyed_by_workspace(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.created"))
    other = load_fixture("timely", "contact.created")
    other.update(event_id="evt_other_ws", workspace_id="ws_other")
    post_webhook("timely", other)
    assert sorted(Contact.objects.values_list("account_id", flat=True)) == ["ws_abc123", "ws_other"]
