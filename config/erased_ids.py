"""Ids in plain form, and the keyed digest that stands for any other id wherever we store one.

An id in plain form (ASCII letters, digits and ``_ . : -``, at most 128 characters: ``cont_456``, a UUID, a
number's digits) is what providers document and cannot spell a name or an email address; it is stored as
sent. Any other id (``Maria Souza``, an email address, a phone number written with ``+`` or spaces) is
stored, from the moment it arrives, as ``hmac-sha256:<hex>``: the same id always gives the same digest, so
duplicates are still recognised and later events still find their contact, without the text.

The key: ``ERASURE_FINGERPRINT_KEY`` (kept outside the database, required in production, already what the
erasure log's fingerprints depend on), else ``SECRET_KEY`` (development). Changing it changes every digest
from then on (docs/erasure-rules.md › Ids in plain form). Both apps ask here, so they store the same form.
"""

import hashlib
import hmac
import re
from typing import Any

from django.conf import settings

MAX_PLAIN_ID_LENGTH = 128
DIGEST_PREFIX = "hmac-sha256:"
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def is_plain_id(value: Any) -> bool:
    return isinstance(value, str) and _PLAIN_ID.fullmatch(value) is not None


def stored_id(value: str) -> str:
    """``value`` itself when it is in plain form (or empty), else its keyed digest."""
    if not value or is_plain_id(value):
        return value
    return id_digest(value)


def id_forms(value: str) -> list[str]:
    """What an id typed by a person may be stored as: itself and, when not in plain form, its digest
    (a look-up by ``__in``; the typed text alone would never find a row stored under its digest)."""
    return [value] if not value or is_plain_id(value) else [value, id_digest(value)]


def id_digest(value: str) -> str:
    key = (settings.ERASURE_FINGERPRINT_KEY or settings.SECRET_KEY).encode()
    # "id:" separates these digests from the fingerprints of emails and phones made with the same key.
    return DIGEST_PREFIX + hmac.new(key, f"id:{value}".encode(errors="surrogatepass"), hashlib.sha256).hexdigest()
