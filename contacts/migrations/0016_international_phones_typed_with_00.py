"""Phones typed with the ``00`` international prefix ("0055 47 99123-4567") that were not valid numbers of
``PHONE_DEFAULT_REGION`` were kept as typed (read in the region they were no possible number): they are
read again as ``+`` and the rest, as ``contacts.normalize`` now does, so any usual spelling finds them.

The rule is written here with phonenumbers itself (a migration imports no application code); in the search
column only the phone's part changes: the typed number's digits (and the number as typed, when it was
more than a phone's characters) give way to the E.164 number's digits, as ``contacts.search`` writes them.
Numbers stored in E.164 are left alone: their typed form is gone. Erasure records keep the fingerprints
they were made with (append-only); ``erasure_lookup`` also looks for the earlier form
(docs/compliance.md › Looking up an erasure).
"""

import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.db import migrations


def international(text: str) -> str:
    region = settings.PHONE_DEFAULT_REGION
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number_for_region(number, region):
        return ""
    try:
        number = phonenumbers.parse("+" + text.lstrip()[2:], None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PHONE_TERM = re.compile(r"^[\d\s()+\-./]+$")


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().split())


def search_text_with(search_text: str, typed: str, e164: str) -> str:
    lines = search_text.split("\n")
    if not PHONE_TERM.match(typed) and fold(typed) in lines:
        lines.remove(fold(typed))
    if digits(typed) in lines:
        lines[lines.index(digits(typed))] = digits(e164)
    return "\n".join(lines)


def renormalize(apps, schema_editor):
    contact_model = apps.get_model("contacts", "Contact")
    for contact in contact_model.objects.filter(erased_at__isnull=True, phone__startswith="00").order_by("pk"):
        if e164 := international(contact.phone):
            contact.search_text = search_text_with(contact.search_text, contact.phone, e164)
            contact.phone = e164
            contact.save(update_fields=["phone", "search_text"])


class Migration(migrations.Migration):
    dependencies = [("contacts", "0015_rebuild_erased_copies")]

    operations = [migrations.RunPython(renormalize, migrations.RunPython.noop)]
