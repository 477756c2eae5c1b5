"""Contact search that ignores case, accents and word order, the same on PostgreSQL and SQLite.

Every contact carries ``search_text``: its name, email, phone digits, tags, custom field values and
provider ids, folded (accents stripped, case-folded, spaces collapsed) by Python, so both databases compare
the same text. A search folds the term the same way and asks for every word to appear in it; on
PostgreSQL a trigram index on the column serves those "contains" tests (migration 0010).

The column is personal data like the fields it is made of: an erased contact's is empty.
"""

import re
import unicodedata
from collections.abc import Iterable

from django.db import models

from contacts.normalize import normalize_phone

# A term made only of these is a phone number, however it is written: "(47) 99123-4567", "+55 47 ...".
PHONE_TERM = re.compile(r"^[\d\s()+\-./]+$")
PHONE_MIN_DIGITS = 4


def fold(text: str) -> str:
    """Lower case, no accents ("João" → "joao", "ß" → "ss"), runs of whitespace as one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _values(value) -> Iterable[str]:
    """The text in a JSON value (tags list, custom fields object), keys left out."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)
    elif value is not None and value != "":
        yield str(value)


def search_document(*, name="", email="", phone="", tags=(), custom_fields=None, external_id="", account_id="",
                    erased=False) -> str:  # fmt: skip
    """What ``search_text`` holds for a contact with these values; empty once it is erased."""
    if erased:
        return ""
    # A phone in E.164 is kept as its digits only; anything else (an unreadable number) also as written.
    phone_as_written = "" if PHONE_TERM.match(phone or "") else phone
    parts = [name, email, phone_as_written, _digits(phone or ""), *_values(tags), *_values(custom_fields or {}),
             external_id, account_id]  # fmt: skip
    # A separator no folded term can contain, so that no word matches across two values.
    return "\n".join(folded for folded in (fold(str(part)) for part in parts if part) if folded)


def contact_search_document(contact) -> str:
    return search_document(
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        tags=contact.tags,
        custom_fields=contact.custom_fields,
        external_id=contact.external_id,
        account_id=contact.account_id,
        erased=contact.erased_at is not None,
    )


class SearchTextField(models.TextField):
    """Recomputed from the contact whenever the row is written (``save()``, ``bulk_create``, and
    ``config.bulk.bulk_update_by_pk``, which calls ``pre_save`` like ``save()`` does), so no write
    path can leave it stale. ``QuerySet.update()`` bypasses it: use it only for non-personal fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        # Migrations see the column it is (a TextField), not this class: they import no application code,
        # and a historical model must not run today's search rules (migration 0010 writes its own).
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs

    def pre_save(self, model_instance, add):
        value = contact_search_document(model_instance)
        setattr(model_instance, self.attname, value)
        return value


def search_condition(term: str, *, also=None) -> models.Q | None:
    """Every word of the term folded into ``search_text`` (or in what ``also(word)`` matches, a condition or
    None); a phone-shaped term by its digits, also as the E.164 number it stands for ("(047) 99123-4567" →
    5547991234567). None for an empty term."""
    folded = fold(term)
    if not folded:
        return None
    if PHONE_TERM.match(folded) and len(digits := _digits(folded)) >= PHONE_MIN_DIGITS:
        condition = models.Q(search_text__contains=digits)
        e164 = normalize_phone(term)
        if e164.startswith("+") and _digits(e164) != digits:
            condition |= models.Q(search_text__contains=_digits(e164))
        return condition
    condition = models.Q()
    for word in folded.split(" "):
        # A word like "99123-4567" is a phone fragment: its digits are what the column holds.
        if PHONE_TERM.match(word) and len(_digits(word)) >= PHONE_MIN_DIGITS:
            word = _digits(word)
        word_condition = models.Q(search_text__contains=word)
        if also is not None and (other := also(word)) is not None:
            word_condition |= other
        condition &= word_condition
    return condition
