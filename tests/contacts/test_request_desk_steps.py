"""The desk in few steps: a new request opens on its desk, its actions stand first on the page, one request can
ask for access and erasure together, an erasure that answers everything closes the request, and "Mark
answered" closes the rest. (The steps themselves are counted in a browser: tests/browser/.)"""

import pytest

from contacts.models import DataSubjectRequest, ErasureRecord
from contacts.requests import erase_from_request
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
Kind, Status = DataSubjectRequest.Kind, DataSubjectRequest.Status
ADD_URL = "/admin/contacts/datasubjectrequest/add/"


def new_request(*contacts, kind=Kind.ACCESS):
    request = DataSubjectRequest.objects.create(kind=kind)
    request.contacts.set(contacts)
    return request


def desk_url(request, action="change"):
    return f"/admin/contacts/datasubjectrequest/{request.pk}/{action}/"


def test_a_new_request_opens_on_its_desk_with_its_actions_above_the_form(client, auditor):
    contact = ContactFactory()
    response = client.post(ADD_URL, {
        "kind": "access_erasure", "received_at_0": "2026-11-20", "received_at_1": "10:00:00", "due_at_0": "",
        "due_at_1": "", "reference": "TICKET-881", "contacts": [contact.pk], "status": "open", "refusal_reason": "",
        "_save": "Save",
    })  # fmt: skip
    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == desk_url(request)
    assert request.kind == Kind.ACCESS_AND_ERASURE and request.asks_access and request.asks_erasure

    page = client.get(response["Location"]).content.decode()
    actions = page.index('id="dsr-actions"')
    assert actions < page.index('id="id_kind"') and actions < page.index('id="dsr-contact-')
    assert page.index(f'id="dsr-export-html-{contact.pk}"') < page.index('id="id_kind"')
    assert 'id="dsr-erase"' in page and 'id="dsr-answer"' in page and 'id="dsr-export-first"' in page


def test_add_another_still_adds_another(client, auditor):
    response = client.post(ADD_URL, {
        "kind": "access", "received_at_0": "2026-11-20", "received_at_1": "10:00:00", "due_at_0": "", "due_at_1": "",
        "reference": "", "status": "open", "refusal_reason": "", "_addanother": "1",
    })  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith(ADD_URL)


def test_mark_answered_closes_the_request_with_who_and_when(client, auditor):
    request = new_request(ContactFactory())
    response = client.post(desk_url(request, "answer"), follow=True)
    assert "marked answered" in response.content.decode()
    request.refresh_from_db()
    assert request.status == Status.ANSWERED and request.closed_at and request.handled_by == auditor
    again = client.post(desk_url(request, "answer"), follow=True).content.decode()
    assert "already closed" in again
    assert 'id="dsr-answer"' not in client.get(desk_url(request)).content.decode()


def test_mark_answered_is_a_post_by_someone_who_may_change_the_request(client, auditor):
    request = new_request(ContactFactory())
    assert client.get(desk_url(request, "answer")).status_code == 403
    request.refresh_from_db()
    assert request.is_open


def test_an_erasure_request_is_answered_by_its_erasure(auditor):
    request = new_request(ContactFactory(), kind=Kind.ERASURE)
    erase_from_request(request=request, user=auditor)
    request.refresh_from_db()
    assert request.status == Status.ANSWERED and request.handled_by == auditor and ErasureRecord.objects.count() == 1


def test_access_then_erasure_is_answered_by_the_erasure_only_once_the_copy_was_exported(client, auditor):
    person = ContactFactory()
    request = new_request(person, kind=Kind.ACCESS_AND_ERASURE)
    warned = client.get(desk_url(request, "erase")).content.decode()
    assert 'id="dsr-erase-export-first"' in warned and 'id="dsr-erase-answers"' not in warned
    erase_from_request(request=request, user=auditor)
    request.refresh_from_db()
    assert request.is_open  # erased without the copy: someone must still answer (and say why there is none)

    other = new_request(ContactFactory(), kind=Kind.ACCESS_AND_ERASURE)
    contact = other.contacts.get()
    assert client.get(desk_url(other, f"export/{contact.pk}/html")).status_code == 200
    page = client.get(desk_url(other, "erase")).content.decode()
    assert 'id="dsr-erase-answers"' in page and 'id="dsr-erase-export-first"' not in page
    response = client.post(desk_url(other, "erase"), follow=True)
    assert "marked answered" in response.content.decode()
    other.refresh_from_db()
    assert other.status == Status.ANSWERED and other.erasures.count() == 1
