"""Staff find a person however they type the name, the phone or a tag: case, accents and word order do not
matter, on SQLite and PostgreSQL alike (the folded search_text column, contacts.search)."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from contacts.models import Contact
from contacts.search import fold
from contacts.selectors import search_contacts
from contacts.services import erase_on_request
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "joao": ContactFactory(
            name="João Sebastião da Conceição",
            email="joao.s@exemplo.com.br",
            phone="+5547991234567",
            external_id="cont_joao",
        ),  # fmt: skip
        "ana": ContactFactory(
            name="Ana Costa Ribeiro",
            email="ana.costa@exemplo.com.br",
            phone="+5511988887777",
            tags=["cliente-vip", "Joinville"],
            custom_fields={"plano": "Diamante Família"},
            external_id="cont_ana",
        ),  # fmt: skip
        "bruno": ContactFactory(
            name="Bruno Lima",
            email="bruno@exemplo.com.br",
            phone="+5521977776666",
            tags=["lead-frio"],
            external_id="cont_bruno",
        ),  # fmt: skip
    }


def found(term):
    return sorted(contact.external_id for contact in search_contacts(Contact.objects.all(), term))


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("Joao", ["cont_joao"]),
        ("JOÃO", ["cont_joao"]),
        ("conceicao", ["cont_joao"]),
        ("Sebastiao", ["cont_joao"]),
        ("ribeiro ana", ["cont_ana"]),
        ("Ana Ribeiro", ["cont_ana"]),
        ("  ANA   costa  ", ["cont_ana"]),
        ("ana bruno", []),  # every word must match the same contact
        ("cliente-vip", ["cont_ana"]),
        ("JOINVILLE", ["cont_ana"]),
        ("familia diamante", ["cont_ana"]),
        ("ANA.COSTA@exemplo", ["cont_ana"]),
        ("cont_bruno", ["cont_bruno"]),
        ("(47) 99123-4567", ["cont_joao"]),
        ("+55 47 99123-4567", ["cont_joao"]),
        ("047 99123 4567", ["cont_joao"]),
        ("991234567", ["cont_joao"]),
        ("Joao 99123-4567", ["cont_joao"]),
        ("Ana 99123-4567", []),
        ("%", []),  # a LIKE wildcard is searched for, not obeyed
    ],
)
def test_search_ignores_case_accents_and_word_order(people, term, expected):
    assert found(term) == expected


def test_the_folded_text_follows_every_change_of_the_contact(people):
    ana = people["ana"]
    ana.name, ana.tags = "Ana Luíza Ribeiro", ["ex-cliente"]
    ana.save()

    assert found("luiza") == ["cont_ana"]
    assert found("cliente-vip") == []
    assert found("ex-cliente") == ["cont_ana"]


def test_an_erased_contact_keeps_no_search_text_and_is_found_by_its_exact_id_only(people):
    erase_on_request(contact=people["joao"], requested_by="dpo", requested_by_type="admin", reference="DSR-1")

    joao = Contact.objects.get(external_id="cont_joao")
    assert joao.search_text == ""
    assert found("conceicao") == []
    assert found("cont_joao") == ["cont_joao"]


def test_fold_strips_accents_and_case_and_collapses_spaces():
    assert fold("  São   JOSÉ\tdos Pinhais ") == "sao jose dos pinhais"
    assert fold("Straße") == "strasse"


@pytest.mark.parametrize("term", ["sebastiao", "RIBEIRO ana", "cliente-vip", "(11) 98888-7777"])
def test_admin_and_api_search_the_same_way(admin_client, people, term):
    listing = admin_client.get(reverse("admin:contacts_contact_changelist"), {"q": term})
    api = admin_client.get("/api/contacts/", {"search": term}).json()

    assert [c.external_id for c in listing.context["cl"].result_list] == found(term)
    assert [row["external_id"] for row in api["results"]] == found(term)


def test_the_database_refuses_search_text_on_a_tombstone(people):
    erase_on_request(contact=people["ana"], requested_by="dpo", requested_by_type="admin", reference="DSR-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(external_id="cont_ana").update(search_text="ana costa ribeiro")
