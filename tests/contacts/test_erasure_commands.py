"""``erase_contact`` (data-subject requests outside the admin) and ``erasure_lookup`` (keyed fingerprints)."""

import hashlib
import hmac
import io

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Contact, ErasureRecord
from tests.conftest import load_fixture
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db


def erase_cli(*args) -> str:
    out = io.StringIO()
    call_command("erase_contact", *args, stdout=out)
    return out.getvalue()


class TestEraseContactCommand:
    def test_erases_the_contact_and_records_the_cli_request(self):
        contact = ContactFactory(external_id="cont_456", name="Ana Costa", email="ana.costa@exemplo.com.br")
        WebhookEventFactory(external_id="cont_456", body=b'{"data": {"name": "Ana Costa"}}')
        output = erase_cli("--provider", "timely", "--account", "ws_abc123", "--external-id", "cont_456",
                           "--reference", "DSR-118", "--requested-by", "dpo@ourcompany")  # fmt: skip
        contact.refresh_from_db()
        assert contact.is_erased and contact.name == "" and contact.email == ""
        record = ErasureRecord.objects.get()
        assert (record.requested_by_type, record.requested_by) == ("cli", "dpo@ourcompany")
        assert (record.reason, record.reference, record.redacted_events) == ("data_subject_request", "DSR-118", 1)
        assert "erasure record 1" in output
        assert b"Ana Costa" not in bytes(WebhookEvent.objects.get().body)

    def test_an_unknown_contact_is_a_clear_error_and_nothing_is_written(self):
        with pytest.raises(CommandError, match=r"no contact timely/ws_abc123/cont_nope: nothing was erased"):
            erase_cli("--provider", "timely", "--account", "ws_abc123", "--external-id", "cont_nope")
        assert not Contact.objects.exists() and not ErasureRecord.objects.exists()

    def test_an_unknown_provider_is_refused_even_with_tombstone_unknown(self):
        with pytest.raises(CommandError, match=r"unknown provider 'timley' \(known: fpt, timely\)"):
            erase_cli("--provider", "timley", "--account", "ws_abc123", "--external-id", "cont_456",
                      "--reference", "DSR-3", "--tombstone-unknown")  # fmt: skip
        assert not Contact.objects.exists()

    def test_an_unknown_contact_can_be_tombstoned_so_later_events_cannot_bring_it_back(self, post_webhook):
        erase_cli("--provider", "timely", "--account", "ws_abc123", "--external-id", "cont_456",
                  "--reason", "legal_order", "--reference", "LGPD/2026/0042", "--tombstone-unknown")  # fmt: skip
        tombstone = Contact.objects.get(external_id="cont_456")
        assert tombstone.is_erased and ErasureRecord.objects.get().erased_fields == []
        post_webhook("timely", load_fixture("timely", "contact.created"))
        event = WebhookEvent.objects.get()
        assert event.status == WebhookEventStatus.IGNORED and event.redacted_at is not None
        tombstone.refresh_from_db()
        assert tombstone.name == "" and b"Ana Costa" not in bytes(event.body)

    @pytest.mark.parametrize(
        ("option", "text"),
        [
            ("--reason", "Ana asked by phone"),
            ("--reason", "DATA_SUBJECT_REQUEST"),
            ("--reference", "Ana Costa"),
            ("--reference", "call back (47) 99123-4567"),
            ("--reference", "123.456.789-09"),
            ("--reference", "CPF-123456789"),
            ("--reference", "Av-12345678-Centro"),
        ],
    )
    def test_free_text_is_refused_before_anything_is_erased_and_never_repeated(self, option, text):
        contact = ContactFactory(name="Ana Costa", phone="+5547991234567")
        with pytest.raises(CommandError, match="nothing was erased") as refused:
            erase_cli("--provider", "timely", "--account", contact.account_id,
                      "--external-id", contact.external_id, option, text)  # fmt: skip
        assert text not in str(refused.value)
        contact.refresh_from_db()
        assert not contact.is_erased and not ErasureRecord.objects.exists()

    def test_the_reason_codes_are_accepted(self):
        contact = ContactFactory()
        erase_cli("--provider", "timely", "--account", contact.account_id, "--external-id", contact.external_id,
                  "--reason", "retention")  # fmt: skip
        assert (ErasureRecord.objects.get().reason, ErasureRecord.objects.get().reference) == ("retention", "")

    def test_an_already_erased_contact_is_reported_not_erased_twice(self, erase):
        contact = ContactFactory()
        erase(contact)
        with pytest.raises(CommandError, match="already erased"):
            erase_cli("--provider", "timely", "--account", contact.account_id, "--external-id", contact.external_id,
                      "--reason", "consent_withdrawn")  # fmt: skip
        assert ErasureRecord.objects.count() == 1


def lookup(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("erasure_lookup", *args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


class TestErasureLookup:
    @pytest.fixture
    def erased_ana(self, settings, erase):
        settings.ERASURE_FINGERPRINT_KEY = "a-key-kept-outside-the-database"
        return erase(ContactFactory(external_id="cont_456", email="ana.costa@exemplo.com.br", phone="+5547991234567"))

    @pytest.mark.parametrize(
        "option",
        [
            ("--email", " Ana.Costa@Exemplo.com.br "),
            ("--email", "ana.costa@exemplo.com.br"),
            ("--phone", "(47) 99123-4567"),
            ("--phone", "+55 47 99123-4567"),
            ("--phone", "5547991234567"),
            ("--phone", "+5547991234567"),
        ],  # fmt: skip
    )
    def test_finds_the_record_however_the_email_or_phone_is_written(self, erased_ana, option):
        code, output = lookup(*option)
        assert code == 0
        assert f"Erasure record {erased_ana.sequence}: timely account ws_abc123 contact cont_456" in output

    def test_someone_never_erased_is_not_found(self, erased_ana):
        assert lookup("--email", "outra.pessoa@exemplo.com.br") == (1, "No erasure record matches.\n")
        assert lookup("--phone", "(47) 99999-0000")[0] == 1

    def test_fingerprints_are_keyed_hmacs_never_plain_hashes(self, erased_ana, settings):
        email = "ana.costa@exemplo.com.br"
        assert erased_ana.email_fingerprint != hashlib.sha256(email.encode()).hexdigest()
        expected = hmac.new(settings.ERASURE_FINGERPRINT_KEY.encode(), f"email:{email}".encode(), hashlib.sha256)
        assert erased_ana.email_fingerprint == expected.hexdigest()
        settings.ERASURE_FINGERPRINT_KEY = "another-key"
        assert lookup("--email", email)[0] == 1  # without the right key the log confirms nothing

    def test_without_a_key_records_hold_no_fingerprint_and_lookup_says_so(self, settings, erase):
        settings.ERASURE_FINGERPRINT_KEY = ""
        record = erase(ContactFactory(email="ana.costa@exemplo.com.br", phone="+5547991234567"))
        assert (record.email_fingerprint, record.phone_fingerprint) == ("", "")
        with pytest.raises(CommandError, match="ERASURE_FINGERPRINT_KEY is not configured"):
            lookup("--email", "ana.costa@exemplo.com.br")

    def test_one_of_email_or_phone_is_required(self):
        with pytest.raises(CommandError):
            call_command("erasure_lookup")
