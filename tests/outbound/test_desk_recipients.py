"""A data-subject erasure request is answered on time whatever the recipients do: its page lists every
recipient of the erasure with its status, and keeps the ones not done as follow-ups."""

import io

import pytest
from django.core.management import call_command

from contacts.models import DataSubjectRequest, ErasurePropagation
from contacts.services.propagation import settle_propagation
from tests.factories import ContactFactory
from webhooks.outbound.dispatcher import OutboundDispatcher

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasure_log_cleanup")]


def test_the_requests_page_lists_every_recipient_and_keeps_the_pending_ones_as_follow_ups(admin_client, receivers):
    client = admin_client  # a superuser: a transactional test's flush took the migrations' Compliance group
    billing = receivers()
    call_command("add_downstream_system", "--name", "billing", "--url", billing.url, stdout=io.StringIO())
    call_command("add_downstream_system", "--name", "spreadsheet", "--manual", stdout=io.StringIO())
    request = DataSubjectRequest.objects.create(kind=DataSubjectRequest.Kind.ERASURE)
    request.contacts.set([ContactFactory()])

    assert client.post(f"/admin/contacts/datasubjectrequest/{request.pk}/erase/").status_code == 302
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    page = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/").content.decode()
    table = page[page.index('id="dsr-recipients"') : page.index("</table>", page.index('id="dsr-recipients"'))]
    for system, status in (("billing", "Delivered"), ("spreadsheet", "Awaiting confirmation"),
                           ("timely", "Awaiting confirmation")):  # fmt: skip
        assert f"<td>{system}</td><td>{status}</td>" in table
    assert "Follow-up: 2 recipients" in page

    for entry in ErasurePropagation.objects.exclude(kind="webhook"):
        settle_propagation(entry, by="dpo", status="confirmed")
    page = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/").content.decode()
    assert 'id="dsr-follow-ups"' not in page and "<td>spreadsheet</td><td>Confirmed</td>" in page
