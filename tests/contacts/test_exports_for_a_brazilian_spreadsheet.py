"""The contacts export as a Brazilian spreadsheet opens it: `;` between cells, a byte-order mark, the columns'
names in Portuguese, phones as text with nothing added to see, and every cell that could run still guarded."""

import csv
import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ContactFactory, WebhookEventFactory

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


def test_a_brazilian_reader_gets_local_dates_and_sim_nao_with_the_zone_in_the_time_columns(admin_client):
    ContactFactory(external_id="br", can_sms=True, can_email=False, can_call=None,
                   remote_created_at=datetime(2026, 12, 7, 13, 5, 9, tzinfo=UTC))  # fmt: skip

    content, rows = exported(admin_client, "pt-BR")

    header = content.decode("utf-8").removeprefix("\ufeff").splitlines()[0].split(";")
    assert "criado no provedor (America/Sao_Paulo)" in header
    row = rows[0]
    # 13:05 UTC is 10:05 in São Paulo: a local time, day first, as a Brazilian spreadsheet reads it.
    assert row["criado no provedor (America/Sao_Paulo)"] == "07/12/2026 10:05:09"
    assert (row["aceita SMS"], row["aceita e-mail"], row["aceita ligação"]) == ("Sim", "Não", "")
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", row["criado em (America/Sao_Paulo)"])


def test_an_english_reader_keeps_iso_times_and_true_false(admin_client):
    ContactFactory(can_sms=True, can_email=False, remote_created_at=datetime(2026, 12, 7, 13, 5, 9, tzinfo=UTC))

    _, rows = exported(admin_client, "en")

    assert rows[0]["remote_created_at"] == "2026-12-07T13:05:09+00:00"
    assert (rows[0]["can_sms"], rows[0]["can_email"], rows[0]["can_call"]) == ("True", "False", "")


def test_the_event_log_export_reads_times_the_readers_way(admin_client):
    event = WebhookEventFactory()
    url = reverse("admin:webhooks_webhookevent_changelist")
    form = {"action": "export_csv", "_selected_action": [event.pk]}

    pt = b"".join(admin_client.post(url, form, headers={"accept-language": "pt-BR"}).streaming_content)
    en = b"".join(admin_client.post(url, form, headers={"accept-language": "en"}).streaming_content)

    received = timezone.localtime(event.received_at, ZoneInfo("America/Sao_Paulo"))
    assert received.strftime("%d/%m/%Y %H:%M:%S").encode() in pt
    assert event.received_at.isoformat().encode() in en
