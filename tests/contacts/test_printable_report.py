"""The printable answer to an access request reads as a document in the reader's language: labels, lists and
key/value tables (never a Python repr or raw JSON), local times with their zone, payloads as tables."""

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from contacts.models import Contact, DataSubjectRequest
from contacts.report import node
from tests.factories import ContactFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(client, auditor):
    person = ContactFactory(
        name="Joana Prado", email="joana@exemplo.com.br", tags=["vip", "academia"],
        custom_fields={"plano": "anual", "unidade": "Centro"}, notes="prefere WhatsApp",
    )  # fmt: skip
    payload = {"event": "contact.created", "data": {"contact_id": person.external_id, "name": "Joana Prado",
               "tags": ["vip", "academia"], "custom_fields": {"plano": "anual"}}}  # fmt: skip
    WebhookEventFactory(
        provider=person.provider, account_id=person.account_id, external_id=person.external_id,
        body=json.dumps(payload).encode(), occurred_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    request = DataSubjectRequest.objects.create(kind=DataSubjectRequest.Kind.ACCESS)
    request.contacts.set([person])

    def read(language: str) -> str:
        url = f"/admin/contacts/datasubjectrequest/{request.pk}/export/{person.pk}/html/"
        response = client.get(url, headers={"accept-language": language})
        assert response.status_code == 200
        return response.content.decode()

    return read


def test_lists_and_objects_are_lists_and_tables_never_python_or_json(report):
    page = report("en")
    assert "['" not in page and "{'" not in page and '{"' not in page and "[&#x27;" not in page
    assert re.search(r"<th>Tags</th><td><ul><li><span[^>]*>vip</span></li><li><span[^>]*>academia<", page)
    assert re.search(r"<th>plano</th><td><span[^>]*>anual</span>", page)
    fields = page.split('id="export-fields"')[1].split("</table>")[0]
    assert "<th>Custom fields</th>" in fields and "<th>unidade</th>" in fields
    payload = page.split('id="export-events"')[1]
    assert 'class="payload"><table class="kv">' in payload and "<th>contact_id</th>" in payload


def test_in_portuguese_for_a_portuguese_reader_with_local_times_and_their_zone(report):
    page = report("pt-BR")
    assert "O que guardamos sobre você" in page
    fields = page.split('id="export-fields"')[1].split("</table>")[0]
    assert "<th>Etiquetas</th>" in fields and "<th>Nome</th>" in fields
    assert "Tags" not in fields and "custom_fields" not in fields
    assert "America/Sao_Paulo" in page.split('id="export-time-zone"')[1].split("</p>")[0]
    # Times in local time, dd/mm/aaaa HH:MM; the zone is named once, at the top.
    created = timezone.localtime(Contact.objects.get().created_at, ZoneInfo("America/Sao_Paulo"))
    assert created.strftime("%d/%m/%Y %H:%M") in page.split('id="export-record"')[1].split("</table>")[0]


def test_values_become_nodes_of_their_kind():
    with translation.override("en"):  # a request before may have left another language active
        assert node(True) == {"kind": "text", "value": "yes"}
    assert node(["a", {"b": None}]) == {
        "kind": "list", "items": [{"kind": "text", "value": "a"}, {"kind": "table", "rows": [("b", {"kind": "empty"})]}]
    }  # fmt: skip
    assert node({}) == node([]) == node("") == {"kind": "empty"}
    assert node(3) == {"kind": "text", "value": "3"}
