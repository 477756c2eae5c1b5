"""The admin's home page in Portuguese, third-party apps' sections included; the access trail's kept
filters say "not kept" in the reader's language."""

import pytest

from contacts.access import Kind, record_access

pytestmark = pytest.mark.django_db

PT_BR = {"accept-language": "pt-BR"}


def test_third_party_sections_read_in_portuguese(admin_client):
    page = admin_client.get("/admin/", headers=PT_BR).content.decode()

    for portuguese in ("Bloqueio de login", "Tentativas de acesso", "Falhas de acesso", "Registros de acesso",
                       "Aplicativos autenticadores", "Listas de códigos de reserva"):  # fmt: skip
        assert portuguese in page
    for english in ("Access attempts", "Access failures", "Access logs", "TOTP devices", "Static devices", "Axes",
                    "OTP_TOTP", "Otp_Totp", "Otp_Static"):  # fmt: skip
        assert english not in page
    attempts = admin_client.get("/admin/axes/accessattempt/", headers=PT_BR).content.decode()
    assert "tentativa de acesso" in attempts.lower() and "Access attempt" not in attempts


def test_the_access_trail_says_not_kept_in_the_readers_language(admin_client, admin_user):
    record_access(user=admin_user, kind=Kind.CONTACT_LIST, rows=3, filters={"q": "[not kept]", "provider": "fpt"})

    portuguese = admin_client.get("/admin/contacts/contactaccess/", headers=PT_BR).content.decode()
    english = admin_client.get("/admin/contacts/contactaccess/", headers={"accept-language": "en"}).content.decode()

    assert "provider: fpt, q: [não guardado]" in portuguese and "[not kept]" not in portuguese
    assert "q: [not kept]" in english
