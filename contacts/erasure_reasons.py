"""Why an erasure happened, as the append-only log keeps it: a code from a closed list and an optional ticket
reference in a strict pattern, never free text. Nothing in the log can ever be erased, so nothing typed there may
be able to describe a person: a list of codes cannot, and the reference pattern (a letter prefix, then digit
groups of at most 8) matches no name, CPF, phone or address. A note for staff belongs where an erasure reaches
it (the contact's own notes), never in the log."""

import re

from django.db import models
from django.utils.translation import gettext_lazy as _


class ErasureReason(models.TextChoices):
    PROVIDER_DELETION = "provider_deletion", _("Deleted at the provider")
    DATA_SUBJECT_REQUEST = "data_subject_request", _("Data-subject request")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    RETENTION = "retention", _("Retention period ended")
    LEGAL_ORDER = "legal_order", _("Legal or court order")
    RESTORE = "restore", _("Re-applied after a database restore")


# What staff choose from (admin, request desk): a provider's deletion and a restore are the system's own.
STAFF_REASONS = (
    ErasureReason.DATA_SUBJECT_REQUEST,
    ErasureReason.CONSENT_WITHDRAWN,
    ErasureReason.RETENTION,
    ErasureReason.LEGAL_ORDER,
)

# "DSR-88", "DSR-2026-11", "LGPD/2026/0042". ASCII only, matched whole (fullmatch: no trailing newline).
REFERENCE_PATTERN = re.compile(r"[A-Za-z]{2,12}[-/][0-9]{1,8}(?:[-/][0-9]{1,8}){0,2}", re.ASCII)
REFERENCE_MAX_LENGTH = 40  # 12 letters and three groups of 8 digits with their separators: 39
REFERENCE_HELP = _("A ticket id: letters, then up to three groups of digits, e.g. DSR-88, DSR-2026-11, LGPD/2026/0042.")


class InvalidErasureReason(ValueError):
    """A reason that is not one of the codes, or a reference outside the pattern. The message never repeats
    the value given: it may be exactly the personal data the rule keeps out."""


def is_reason_code(reason: str) -> bool:
    return reason in ErasureReason.values


def is_reference(reference: str) -> bool:
    return bool(REFERENCE_PATTERN.fullmatch(reference))


def check_reason_and_reference(*, reason: str, reference: str) -> None:
    if not is_reason_code(reason):
        raise InvalidErasureReason(f"an erasure's reason is one of: {', '.join(ErasureReason.values)}")
    if reference and not is_reference(reference):
        raise InvalidErasureReason("an erasure's reference is a ticket id such as DSR-88 or LGPD/2026/0042")
