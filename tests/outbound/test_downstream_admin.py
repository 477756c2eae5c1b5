"""Contacts › Downstream systems and the erasure record's propagation, as compliance staff use them."""

import pytest
from django.contrib.auth.models import Group

from contacts.models import DownstreamSystem, ErasurePropagation
from contacts.permissions import COMPLIANCE_GROUP
from contacts.services.erasure import erase_on_request
from tests.factories import ContactFactory, UserFactory
from webhooks.outbound.models import OutboundEndpoint, OutboundMessage

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + "QUJD" * 8


@pytest.fixture
def compliance(client):
    user = UserFactory(is_staff=True, username="dpo")
    user.groups.add(Group.objects.get(name=COMPLIANCE_GROUP))
    client.force_login(user)
    return client


def add(client, **fields):
    data = {"name": "billing", "kind": "webhook", "url": "https://billing.example/hooks", "active": "on", "note": "",
            **fields}  # fmt: skip
    return client.post("/admin/contacts/downstreamsystem/add/", data, follow=True)


def test_compliance_staff_add_a_webhook_system_whose_generated_secret_is_shown_once(compliance):
    response = add(compliance, generate_secret="on")
    system = DownstreamSystem.objects.get()
    [secret] = system.secrets
    assert secret.startswith("whsec_") and secret in response.content.decode()
    endpoint = OutboundEndpoint.objects.get(key=system.endpoint_key)
    assert (endpoint.url, endpoint.secrets, endpoint.active) == ("https://billing.example/hooks", [secret], True)

    page = compliance.get(f"/admin/contacts/downstreamsystem/{system.pk}/change/").content.decode()
    assert secret not in page and f"whsec_…{secret[-4:]}" in page


def test_a_rotation_adds_a_secret_and_retires_the_old_one(compliance):
    add(compliance, add_secret=SECRET)
    system = DownstreamSystem.objects.get()
    newer = "whsec_" + "WFla" * 8
    url = f"/admin/contacts/downstreamsystem/{system.pk}/change/"
    data = {"name": "billing", "kind": "webhook", "url": system.url, "active": "on", "note": ""}
    compliance.post(url, {**data, "add_secret": newer})
    assert DownstreamSystem.objects.get().secrets == [SECRET, newer]
    compliance.post(url, {**data, "retire_secrets": ["0"]})
    assert DownstreamSystem.objects.get().secrets == [newer]
    assert OutboundEndpoint.objects.get().secrets == [newer]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": ""}, "needs the URL"),
        ({}, "at least one signing secret"),
        ({"add_secret": "hunter2"}, "Not a usable secret"),
        ({"kind": "manual", "generate_secret": "on"}, "A manual system has no URL"),
        ({"url": "ftp://x.example/", "generate_secret": "on"}, "http:// or https://"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_saved(compliance, fields, error):
    response = add(compliance, **fields)
    assert response.status_code == 200 and error in response.content.decode()
    assert not DownstreamSystem.objects.exists()


def test_the_ping_action_queues_a_test_message_for_webhook_systems_only(compliance):
    add(compliance, add_secret=SECRET)
    add(compliance, name="spreadsheet", kind="manual", url="")
    ids = [str(pk) for pk in DownstreamSystem.objects.values_list("pk", flat=True)]
    response = compliance.post(
        "/admin/contacts/downstreamsystem/", {"action": "send_ping", "_selected_action": ids}, follow=True
    )
    assert "queued" in response.content.decode()
    message = OutboundMessage.objects.get()
    assert message.event_type == "ping" and '"system":"billing"' in message.body


def test_staff_outside_compliance_cannot_see_or_edit_systems(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/contacts/downstreamsystem/").status_code == 403


def test_the_record_page_lists_every_system_and_takes_a_manual_answer_once(compliance):
    add(compliance, add_secret=SECRET)
    add(compliance, name="spreadsheet", kind="manual", url="")
    record = erase_on_request(
        contact=ContactFactory(),
        requested_by="dpo",
        requested_by_type="admin",
        reason="data_subject_request",
        reference="DSR-7",
    )

    page = compliance.get(f"/admin/contacts/erasurerecord/{record.pk}/change/").content.decode()
    for text in ("billing", "spreadsheet", "timely", "Pending", "Awaiting confirmation"):
        assert text in page
    entry = ErasurePropagation.objects.get(system_name="spreadsheet")
    answer_url = f"/admin/contacts/erasurerecord/propagation/{entry.pk}/answer/"
    assert answer_url in page

    refused = compliance.post(answer_url, {"status": "impossible", "reason": ""})
    assert "Say why it is impossible" in refused.content.decode()
    compliance.post(answer_url, {"status": "confirmed"})
    compliance.post(answer_url, {"status": "impossible", "reason": "disproportionate_effort"})  # too late
    entry = ErasurePropagation.objects.get(pk=entry.pk)
    assert (entry.settled_status, entry.settled_by) == ("confirmed", "dpo")
    page = compliance.get(f"/admin/contacts/erasurerecord/{record.pk}/change/").content.decode()
    assert "Confirmed" in page and "dpo" in page


def test_answering_needs_the_permission(client, compliance):
    add(compliance, name="spreadsheet", kind="manual", url="")
    erase_on_request(
        contact=ContactFactory(),
        requested_by="dpo",
        requested_by_type="admin",
        reason="data_subject_request",
        reference="DSR-8",
    )
    entry = ErasurePropagation.objects.get(system_name="spreadsheet")
    viewer = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_erasurerecord"))
    client.force_login(viewer)
    response = client.post(f"/admin/contacts/erasurerecord/propagation/{entry.pk}/answer/", {"status": "confirmed"})
    assert response.status_code == 403
    assert ErasurePropagation.objects.get(pk=entry.pk).settled_status == ""


def test_a_failed_message_is_replayed_from_the_admin_under_its_webhook_id(admin_client):
    from django.utils import timezone

    from webhooks.outbound.queue import configure_endpoint, queue_messages

    configure_endpoint(key="k", label="billing", url="https://billing.example/", secrets=[SECRET], active=True)
    message_id = queue_messages(endpoint_keys=["k"], event_type="contact.erased", data={"id": 1}, at=timezone.now())
    OutboundMessage.objects.update(status="failed")
    message = OutboundMessage.objects.get()
    assert message_id in admin_client.get("/admin/webhooks/outboundmessage/").content.decode()
    admin_client.post("/admin/webhooks/outboundmessage/", {"action": "replay", "_selected_action": [message.pk]})
    message.refresh_from_db()
    assert (message.status, message.message_id) == ("pending", message_id)
