"""What the data-subject request desk's tests share: a person's stored payloads and a request about them."""

import json
from datetime import timedelta

from django.utils import timezone

from contacts.models import DataSubjectRequest
from tests.conftest import fixture_with_data
from tests.factories import ContactFactory, WebhookEventFactory

Kind, Status = DataSubjectRequest.Kind, DataSubjectRequest.Status


def timely_body(contact, **data) -> bytes:
    payload = fixture_with_data("timely", "contact.created", contact_id=contact.external_id, **data)
    payload["workspace_id"] = contact.account_id
    return json.dumps(payload).encode()


def event_about(contact, **data):
    return WebhookEventFactory(
        provider=contact.provider,
        account_id=contact.account_id,
        external_id=contact.external_id,
        body=timely_body(contact, **data),
        occurred_at=timezone.now() - timedelta(days=2),
    )


def new_request(*contacts, kind=Kind.ACCESS, **values):
    request = DataSubjectRequest.objects.create(kind=kind, **values)
    request.contacts.set(contacts)
    return request


def person_with_neighbours():
    """The person, a homonym in another account, and a colleague sharing the person's account; each with
    payloads of their own."""
    person = ContactFactory(
        name="Ana Costa", email="ana.costa@exemplo.com.br", phone="+5547991234567", notes="prefers mornings"
    )
    homonym = ContactFactory(
        name="Ana Costa", account_id="ws_other", email="ana.c@outro.com.br", phone="+5511988887777", notes="VIP"
    )
    colleague = ContactFactory(
        name="Bruno Lima", account_id=person.account_id, email="bruno@exemplo.com.br", phone="+5547990001111"
    )
    event_about(person, name=person.name, email=person.email, phone=person.phone)
    event_about(person, name=person.name, tags=["lead"])
    event_about(homonym, name=homonym.name, email=homonym.email, phone=homonym.phone)
    event_about(colleague, name=colleague.name, email=colleague.email, phone=colleague.phone)
    return person, homonym, colleague
