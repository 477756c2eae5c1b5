"""No free text in the append-only log: an erasure's reason is a code from a closed list, its reference a ticket
id in a strict pattern, whoever writes the record (staff, the command, a provider's deletion, a restore)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contacts.erasure_reasons import ErasureReason, InvalidErasureReason, is_reference
from contacts.models import ErasureRecord
from contacts.services import ErasureOrigin, erase_contact, erase_on_request
from contacts.services.erasure_log import append_erasure_record
from tests.conftest import load_fixture
from tests.factories import ContactFactory

TICKET_IDS = ["DSR-88", "DSR-2026-11", "LGPD/2026/0042", "ab-1", "ABCDEFGHIJKL/12345678/12345678/12345678"]
NOT_TICKET_IDS = [
    "", "Ana Costa", "Ana Da Li Bo", "ana.costa@exemplo.com.br", "123.456.789-09", "12345678909",
    "+55 47 99123-4567", "(47) 99123-4567", "Rua das Flores, 12", "DSR 88", "DSR-88 ", " DSR-88", "DSR-88\n",
    "DSR-123456789", "DSR-1-2-3-4", "D-88", "ABCDEFGHIJKLM-1", "DSR-", "DSR--88", "DSR-٨٨", "ÁNA-12", "DSR_88",
    "CPF-123.456.789-09",
]  # fmt: skip


@pytest.mark.parametrize("reference", TICKET_IDS)
def test_ticket_ids_fit_the_pattern(reference):
    assert is_reference(reference)


@pytest.mark.parametrize("text", NOT_TICKET_IDS)
def test_names_documents_phones_and_addresses_do_not(text):
    assert not is_reference(text)


@given(st.text(max_size=60))
def test_whatever_fits_is_a_letter_prefix_and_at_most_three_short_digit_groups(text):
    if is_reference(text):
        prefix, *groups = text.replace("/", "-").split("-")
        assert prefix.isascii() and prefix.isalpha() and 2 <= len(prefix) <= 12
        assert 1 <= len(groups) <= 3 and all(
            group.isascii() and group.isdigit() and len(group) <= 8 for group in groups
        )


@pytest.mark.django_db
class TestTheServiceRefusesFreeText:
    @pytest.mark.parametrize(
        ("why", "refused"),
        [
            ({"reason": "Ana Costa asked by phone"}, "reason is one of"),
            ({"reason": ""}, "reason is one of"),
            ({"reference": "Ana Costa"}, "reference is a ticket id"),
            ({"reference": "CPF 123.456.789-09"}, "reference is a ticket id"),
        ],
    )
    def test_before_anything_is_erased_and_without_repeating_it(self, why, refused):
        contact = ContactFactory(name="Ana Costa")
        with pytest.raises(InvalidErasureReason, match=refused) as error:
            erase_on_request(contact=contact, requested_by="dpo", requested_by_type="cli", **why)
        assert next(iter(why.values())) not in str(error.value) or next(iter(why.values())) == ""
        contact.refresh_from_db()
        assert not contact.is_erased and not ErasureRecord.objects.exists()

    def test_every_writer_of_the_log_is_held_to_it(self):
        contact = ContactFactory()
        with pytest.raises(InvalidErasureReason):
            erase_contact(
                contact=contact, origin=ErasureOrigin.DATA_SUBJECT_REQUEST, requested_by="", requested_by_type="cli",
                reason="retention", reference="Maria Silva",
            )  # fmt: skip
        with pytest.raises(InvalidErasureReason):
            append_erasure_record(provider="timely", account_id="a", external_id="b", reason="pedido da Maria")
        assert not ErasureRecord.objects.exists()

    def test_the_default_is_a_data_subject_request_without_reference(self):
        record = erase_on_request(contact=ContactFactory(), requested_by="dpo", requested_by_type="cli")
        assert (record.reason, record.reference) == (ErasureReason.DATA_SUBJECT_REQUEST, "")


@pytest.mark.django_db
def test_a_providers_deletion_is_recorded_with_its_code(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.deleted"))
    record = ErasureRecord.objects.get()
    assert (record.reason, record.reference, record.get_reason_display()) == (
        "provider_deletion", "", "Deleted at the provider"
    )  # fmt: skip
