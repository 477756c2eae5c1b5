"""A contact's timeline as Brazilian staff read it: newest first by the time it shows, statuses, reasons,
field names and actors in Portuguese, times local; the stored words stay English for the API."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import translation

from contacts.admin.display import timeline_html
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.events import TimelineEntry

pytestmark = pytest.mark.django_db

PT_BR = {"accept-language": "pt-BR"}


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 5, hour, minute, tzinfo=UTC)


def timeline_of(client, contact, headers=PT_BR) -> str:
    page = client.get(reverse("admin:contacts_contact_change", args=[contact.pk]), headers=headers)
    return page.content.decode().split('id="contact-timeline"')[1].split("</table>")[0]


def test_newest_first_by_the_time_shown_when_deliveries_arrive_out_of_order(admin_client):
    contact = ContactFactory(provider="fpt", account_id="48213", external_id="9917342")
    key = {"provider": "fpt", "account_id": "48213", "external_id": "9917342"}
    # FitProTracker delivered the status change before the older update.
    WebhookEventFactory(**key, event_type="contact.status_changed", occurred_at=at(12), received_at=at(12, 1))
    WebhookEventFactory(**key, event_type="contact.updated", occurred_at=at(11), received_at=at(12, 5))
    WebhookEventFactory(**key, event_type="contact.created", occurred_at=at(10), received_at=at(12, 9))

    timeline = timeline_of(admin_client, contact)

    order = [timeline.index(name) for name in ("status_changed", "contact.updated", "contact.created")]
    assert order == sorted(order)


def test_statuses_reasons_fields_and_actors_read_in_portuguese(admin_client):
    contact = ContactFactory(external_id="cont_456")
    WebhookEventFactory(external_id="cont_456", event_type="contact.updated", status="processed",
                        status_reason="drift in: custom_fields, name; marked needs_refresh",
                        changed_fields=["custom_fields", "remote_created_at"], drift=["name"],
                        actor_type="attendant", actor_id="usr_77", occurred_at=at(9))  # fmt: skip
    ignored = WebhookEventFactory(external_id="cont_456", event_type="conversation.created", status="ignored",
                                  status_reason="event type conversation.created is not applied")  # fmt: skip

    portuguese = timeline_of(admin_client, contact)
    english = timeline_of(admin_client, contact, headers={"accept-language": "en"})

    assert ">Processado<" in portuguese and ">Ignorado<" in portuguese
    assert "divergência em: campos personalizados, nome; marcado para atualizar" in portuguese
    assert "o tipo de evento conversation.created não é aplicado" in portuguese
    assert "<code>campos personalizados</code>" in portuguese and "custom_fields" not in portuguese
    assert "remote_created_at" not in portuguese
    assert "atendente usr_77" in portuguese and "attendant" not in portuguese
    text = re.sub(r"<[^>]+>", " ", portuguese)  # what is read, not the markup's class names
    for word in ("processed", "ignored", "drift in", "needs_refresh", "is not applied"):
        assert word not in text
    assert "drift in: custom fields, name; marked as needing a refresh" in english
    assert ">Processed<" in english and "attendant usr_77" in english
    # The stored words, which the API answers, are unchanged.
    answer = admin_client.get("/api/webhook-events/", {"event_id": ignored.event_id}).json()["results"][0]
    assert answer["status"] == "ignored"
    assert answer["status_reason"] == "event type conversation.created is not applied"


def test_a_changed_time_reads_in_local_time_not_as_the_providers_utc_text():
    entry = TimelineEntry(
        event_pk=1, event_type="contact.created", occurred_at=at(9, 4), received_at=at(9, 5), status="processed",
        changed_fields=("remote_created_at",), values=(("remote_created_at", None, "2026-12-05T09:04:11Z"),),
    )  # fmt: skip

    with translation.override("pt-br"):
        html = timeline_html([entry])

    assert "05/12/2026 06:04" in html
    assert "T09:04" not in html and "Z<" not in html
    assert "criado no provedor" in html
