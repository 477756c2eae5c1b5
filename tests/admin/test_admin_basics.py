"""What staff get in the admin: search, filters, read-only provider fields, the event log and replay."""

import pytest
from django.urls import reverse

from contacts.models import Contact, ErasureRecord
from tests.conftest import load_fixture
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("term", ["Costa", "ana.costa@EXEMPLO", "+55 47 99123-4567", "(47) 99123-4567", "cont_456"])
def test_contact_search_finds_by_name_email_phone_however_typed(staff, term):
    ContactFactory(name="Ana Costa", email="ana.costa@exemplo.com.br", phone="+5547991234567", external_id="cont_456")
    ContactFactory(name="Bruno Lima", email="bruno@exemplo.com.br", phone="+5511988887777")
    response = staff.get(reverse("admin:contacts_contact_changelist"), {"q": term})
    assert response.status_code == 200
    assert [c.name for c in response.context["cl"].result_list] == ["Ana Costa"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [({"provider": "fpt"}, ["F"]), ({"erased": "yes"}, ["E"]), ({"needs_refresh__exact": "1"}, ["N"]),
     ({"source": "instagram"}, ["I"])],
)  # fmt: skip
def test_contact_filters(staff, query, expected):
    ContactFactory(external_id="F", provider="fpt", account_id="1", source="")
    ContactFactory(external_id="E", erased=True)
    ContactFactory(external_id="N", needs_refresh=True)
    ContactFactory(external_id="I", source="instagram")
    response = staff.get(reverse("admin:contacts_contact_changelist"), query)
    assert [c.external_id for c in response.context["cl"].result_list] == expected


def test_provider_fields_are_read_only_and_notes_editable(staff):
    contact = ContactFactory(name="Ana Costa")
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    form = staff.get(url).context["adminform"].form
    assert list(form.fields) == ["notes"]
    response = staff.post(url, {"notes": "VIP, prefers e-mail", "name": "Hacked"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.notes, contact.name) == ("VIP, prefers e-mail", "Ana Costa")


def test_contacts_cannot_be_added_or_deleted_in_admin(staff):
    contact = ContactFactory()
    assert staff.get(reverse("admin:contacts_contact_add")).status_code == 403
    assert staff.get(reverse("admin:contacts_contact_delete", args=[contact.pk])).status_code == 403


def test_erasure_log_is_read_only_even_for_superusers(staff, post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.deleted"))
    record = ErasureRecord.objects.get()
    assert staff.get(reverse("admin:contacts_erasurerecord_changelist")).status_code == 200
    assert staff.get(reverse("admin:contacts_erasurerecord_add")).status_code == 403
    assert staff.get(reverse("admin:contacts_erasurerecord_delete", args=[record.pk])).status_code == 403
    change = staff.post(reverse("admin:contacts_erasurerecord_change", args=[record.pk]), {"reason": "x"})
    assert change.status_code == 403
    record.refresh_from_db()
    assert record.hash == record.compute_hash()


def test_webhook_event_page_shows_pretty_payload_and_is_read_only(staff, post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.created"))
    event = WebhookEvent.objects.get()
    response = staff.get(reverse("admin:webhooks_webhookevent_change", args=[event.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "&quot;contact_id&quot;: &quot;cont_456&quot;" in content
    assert "timely-timestamped" in content
    assert response.context["adminform"].form.fields == {}


def test_webhook_event_filters_by_status_and_type(staff):
    WebhookEventFactory(status=WebhookEventStatus.FAILED, event_type="contact.updated")
    WebhookEventFactory(status=WebhookEventStatus.PROCESSED, event_type="contact.created")
    response = staff.get(reverse("admin:webhooks_webhookevent_changelist"), {"status": "failed"})
    assert [e.event_type for e in response.context["cl"].result_list] == ["contact.updated"]
    response = staff.get(reverse("admin:webhooks_webhookevent_changelist"), {"event_type": "contact.created"})
    assert [e.status for e in response.context["cl"].result_list] == ["processed"]


def test_reprocess_action_replays_failed_events(staff, post_webhook, django_capture_on_commit_callbacks):
    payload = load_fixture("timely", "contact.created")
    payload["data"]["tags"] = ["ok"]
    event = WebhookEventFactory(
        status=WebhookEventStatus.FAILED,
        external_id="cont_456",
        occurred_at="2026-04-19T14:30:00Z",
        body=__import__("json").dumps(payload).encode(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:webhooks_webhookevent_changelist"),
            {"action": "reprocess", "_selected_action": [event.pk]},
        )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().tags == ["ok"]


@pytest.mark.parametrize("query", [{"provider": "bogus"}, {"erased": "perhaps"}, {"erased": "\x00yes"}])
def test_unknown_filter_values_get_the_invalid_filter_page_not_a_silent_list(staff, query):
    ContactFactory()
    response = staff.get(reverse("admin:contacts_contact_changelist"), query)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    ("url", "query", "parameter"),
    [("/api/contacts/", {"provider": "bogus"}, "provider"), ("/api/contacts/", {"erased": "perhaps"}, "erased"),
     ("/api/webhook-events/", {"provider": "bogus"}, "provider"),
     ("/api/webhook-events/", {"status": "perhaps"}, "status")],
)  # fmt: skip
def test_unknown_api_filter_values_are_400_naming_the_parameter(staff, url, query, parameter):
    response = staff.get(url, query)
    assert response.status_code == 400 and parameter in response.json()


def test_known_filter_values_still_filter(staff):
    ContactFactory(provider="fpt", account_id="1", name="F")
    ContactFactory(provider="timely", name="T")
    response = staff.get(reverse("admin:contacts_contact_changelist"), {"provider": "fpt"})
    api = staff.get("/api/contacts/", {"provider": "fpt"}).json()["results"]
    assert [c.name for c in response.context["cl"].result_list] == ["F"] and [r["name"] for r in api] == ["F"]
