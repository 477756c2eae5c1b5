"""A phone typed with the ``00`` international prefix that is no valid number of ``PHONE_DEFAULT_REGION`` is
read as ``+`` and the rest: in storage, in search and in ``erasure_lookup``, so any usual spelling finds it."""

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command

from contacts.models import Contact
from contacts.normalize import normalize_phone
from contacts.selectors import search_contacts
from tests.conftest import load_fixture
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

TYPED_WITH_00 = ["0055 47 99123-4567", "00 55 (47) 99123-4567", "005547991234567"]
USUAL = ["+55 47 99123-4567", "(47) 99123-4567", "47 991234567", "+5547991234567", "0055 47 99123-4567"]


@pytest.mark.parametrize("typed", TYPED_WITH_00)
def test_a_number_typed_with_00_is_stored_in_e164(typed):
    assert normalize_phone(typed) == "+5547991234567"


def test_other_countries_typed_with_00_too():
    assert normalize_phone("0044 20 7946 0958") == "+442079460958"


def test_a_number_that_is_valid_in_the_default_region_keeps_that_reading(settings):
    # In the default region itself a 00 number that is valid there stays as the region reads it.
    settings.PHONE_DEFAULT_REGION = "US"
    assert normalize_phone("(202) 555-0143") == "+12025550143"
    assert normalize_phone("0055 47 99123-4567") == "+5547991234567"


@pytest.mark.parametrize("term", USUAL)
def test_any_usual_typing_finds_a_contact_whose_number_arrived_with_00(post_webhook, term):
    payload = load_fixture("timely", "contact.created")
    payload["data"]["phone"] = "0055 47 99123-4567"
    assert post_webhook("timely", payload).status_code == 200
    contact = Contact.objects.get()
    assert contact.phone == "+5547991234567"
    assert list(search_contacts(Contact.objects.all(), term)) == [contact]


def lookup(phone: str) -> str:
    out = io.StringIO()
    try:
        call_command("erasure_lookup", "--phone", phone, stdout=out)
    except SystemExit:
        return ""
    return out.getvalue()


@pytest.mark.parametrize("term", USUAL)
def test_erasure_lookup_finds_it_however_it_is_typed(settings, erase, term):
    settings.ERASURE_FINGERPRINT_KEY = "a-key-kept-outside-the-database"
    record = erase(ContactFactory(external_id="cont_456", phone=normalize_phone("0055 47 99123-4567")))
    assert f"Erasure record {record.sequence}:" in lookup(term)


def test_erasure_lookup_finds_a_record_made_when_the_number_was_kept_as_typed(settings, erase):
    settings.ERASURE_FINGERPRINT_KEY = "a-key-kept-outside-the-database"
    # Before the rule the number was kept as typed, and its record fingerprints its digits.
    record = erase(ContactFactory(external_id="cont_456", phone="0055 47 99123-4567"))
    assert f"Erasure record {record.sequence}:" in lookup("+55 47 99123-4567")
    assert lookup("+55 47 99999-0000") == ""


def test_the_migration_reads_numbers_kept_as_typed_again_and_their_search_text():
    kept_as_typed = ContactFactory(phone="")
    Contact.objects.filter(pk=kept_as_typed.pk).update(phone="0055 47 99123-4567")
    untouched = ContactFactory(phone="+5521987654321")
    migration = importlib.import_module("contacts.migrations.0016_international_phones_typed_with_00")

    migration.renormalize(apps, None)

    kept_as_typed.refresh_from_db()
    assert kept_as_typed.phone == "+5547991234567" and "5547991234567" in kept_as_typed.search_text
    assert list(search_contacts(Contact.objects.all(), "(47) 99123-4567")) == [kept_as_typed]
    untouched.refresh_from_db()
    assert untouched.phone == "+5521987654321"
