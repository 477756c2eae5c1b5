"""The contacts export as a Brazilian spreadsheet opens it: `;` between cells, a byte-order mark, the columns'
names in Portuguese, phones as text with nothing added to see, and every cell that could run still guarded."""

import csv
import io

import pytest
from django.urls import reverse

from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:contacts_contact_export")


def exported(client, language: str) -> tuple[bytes, list[dict]]:
    response = client.get(EXPORT, headers={"accept-language": language})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    text = content.decode("utf-8").removeprefix("\ufeff")
    delimiter = ";" if language == "pt-BR" else ","
    return content, list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def test_a_brazilian_reader_gets_semicolons_portuguese_headers_and_phones_as_text(admin_client):
    ContactFactory(name="João", phone="+5547991234567", external_id="br")
    ContactFactory(name="=HYPERLINK(\"http://x\")", phone="+16502530000", external_id="us")
    ContactFactory(name="Sem telefone", phone="", external_id="none")

    content, rows = exported(admin_client, "pt-BR")

    assert content.startswith(b"\xef\xbb\xbf")
    header = content.decode("utf-8").removeprefix("\ufeff").splitlines()[0]
    assert header.startswith("ID;provedor;id da conta;id do contato;nome;telefone;e-mail;origem")
    by_id = {row["id do contato"]: row for row in rows}
    assert by_id["br"]["telefone"] == "(47) 99123-4567"
    assert by_id["us"]["telefone"] == "(+1) 650-253-0000"
    assert by_id["none"]["telefone"] == ""
    assert not any(row["telefone"].startswith(("'", "+", "=", "-", "@")) for row in rows)
    assert by_id["us"]["nome"] == "'=HYPERLINK(\"http://x\")"  # shown, never run


def test_an_english_reader_keeps_commas_and_the_apis_field_names(admin_client):
    ContactFactory(name="Ana", phone="+5547991234567")

    content, rows = exported(admin_client, "en")

    assert content.decode("utf-8").removeprefix("\ufeff").startswith("id,provider,account_id,external_id,name,phone")
    assert rows[0]["phone"] == "(47) 99123-4567"
