"""Erasing a person's data everywhere we hold it (LGPD), for whichever reason: the provider deleted the
contact, the person asked us (a data-subject request), or a restored database lacks an exported erasure.

The contact row stays as a tombstone (provider, account, external id, erased_at, needs_refresh); every
stored payload about it is redacted by ``webhooks`` (``webhooks.bridge.StoredEvents``), the admin log is scrubbed, and
the erasure is appended to the hash-chained log (``erasure_log``).
"""

import enum
import hashlib
import hmac
import json
import logging
import re
from datetime import datetime
from functools import partial

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from config.db.locks import lock_subjects
from config.ops.metrics import record_erasure
from contacts.erasure_reasons import ErasureReason, check_reason_and_reference
from contacts.models import PERSONAL_FIELDS, Contact, DataSubjectRequest, ErasureRecord
from contacts.normalize import normalize_email, normalize_phone
from contacts.services.erasure_log import append_erasure_record
from contacts.services.last_write_wins import DELETION_VERSION_KEY, FieldVersion, tombstone_versions
from contacts.services.propagation import propagate_erasure
from webhooks.bridge import stored_events

logger = logging.getLogger(__name__)

# What is left of free text about a person once it is erased (a refused request still says it was refused).
ERASED_TEXT = "[erased]"


class ErasureOrigin(enum.StrEnum):
    """Why a contact is erased, which decides what its record says and what may bring the contact back."""

    # The provider deleted it; the record names the provider's event. Where deletions are soft (FPT), a
    # newer state looked up there reactivates the contact.
    PROVIDER_DELETION = "provider deletion"
    # The person asked us (admin, command, request desk): no provider event, and final whatever the
    # provider does later.
    DATA_SUBJECT_REQUEST = "data-subject request"
    # An exported record re-applied after a database restore: it keeps the original's event id (none for
    # a request), and with it the original's origin.
    RESTORE = "restore"


class AlreadyErased(Exception):
    """The contact holds no personal data any more: a second record would only repeat the first."""


def erase_on_request(
    *,
    contact: Contact,
    requested_by: str,
    requested_by_type: str,
    reason: str = ErasureReason.DATA_SUBJECT_REQUEST,
    reference: str = "",
) -> ErasureRecord:
    """An erasure asked of our staff (admin action, ``erase_contact`` command, request desk): ``reason`` is a
    code (``contacts.erasure_reasons``), ``reference`` an optional ticket id; both are checked before anything
    is written."""
    with transaction.atomic():
        # The contact's lock first, as every writer of it (config.db.locks), then its row: a deletion
        # webhook may have erased the contact since staff picked it.
        lock_subjects([(contact.provider, contact.account_id, contact.external_id)])
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        if contact.is_erased:
            raise AlreadyErased(f"contact #{contact.pk} was already erased")
        return erase_locked_contact(
            contact=contact,
            origin=ErasureOrigin.DATA_SUBJECT_REQUEST,
            requested_by=requested_by,
            requested_by_type=requested_by_type,
            reason=reason,
            reference=reference,
        )


def erase_contact(
    *,
    contact: Contact,
    origin: ErasureOrigin,
    requested_by: str,
    requested_by_type: str,
    reason: str,
    reference: str = "",
    event_id: str = "",
    deleted_at: datetime | None = None,
) -> ErasureRecord:
    """Erase one person's data everywhere we hold it and append the record to the erasure log.

    ``contact`` may be stale: its row is read again under a lock. ``event_id`` and ``deleted_at`` are the
    provider's deletion event and its time (a restore's: the exported record's); a data-subject request
    has neither.
    """
    _check_origin(origin, event_id=event_id, deleted_at=deleted_at)
    check_reason_and_reference(reason=reason, reference=reference)
    with transaction.atomic(savepoint=False):
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        return erase_locked_contact(
            contact=contact,
            origin=origin,
            requested_by=requested_by,
            requested_by_type=requested_by_type,
            reason=reason,
            reference=reference,
            event_id=event_id,
            deleted_at=deleted_at,
        )


def erase_locked_contact(
    *,
    contact: Contact,
    origin: ErasureOrigin,
    requested_by: str,
    requested_by_type: str,
    reason: str,
    reference: str = "",
    event_id: str = "",
    deleted_at: datetime | None = None,
    deletion: FieldVersion | None = None,
) -> ErasureRecord:
    """``erase_contact`` for a caller whose open transaction has just read the row ``FOR UPDATE``: that
    instance is erased in place and left as the tombstone. ``deletion`` is the version of the provider's
    deletion (a batch's), which the tombstone keeps so that older events stay older."""
    _check_origin(origin, event_id=event_id, deleted_at=deleted_at or deletion)
    check_reason_and_reference(reason=reason, reference=reference)
    # No savepoint when a caller's transaction is open (a webhook's deletion): a failure here fails that
    # whole transaction anyway, and a savepoint is two more round trips (docs/performance.md).
    with transaction.atomic(savepoint=False):
        erased_fields = contact.personal_fields_held()
        email_fingerprint = fingerprint("email", contact.email)
        phone_fingerprint = fingerprint("phone", contact.phone)
        now = timezone.now()

        for field in Contact._meta.concrete_fields:
            if field.name in PERSONAL_FIELDS:
                setattr(contact, field.name, field.get_default())
        deletions = [
            v for v in (FieldVersion.from_json(contact.field_versions.get(DELETION_VERSION_KEY)), deletion) if v
        ]
        contact.field_versions, contact.needs_refresh = tombstone_versions(
            contact.field_versions, max(deletions) if deletions else None
        )
        contact.erased_at = now
        contact.refresh_attempts, contact.refresh_due_at = 0, None
        contact.save()
        # The person's requests keep their ids, dates and outcome; a refusal's free text could describe them.
        DataSubjectRequest.objects.filter(contacts=contact).exclude(refusal_reason__in=["", ERASED_TEXT]).update(
            refusal_reason=ERASED_TEXT, updated_at=now
        )
        redacted_events = _redact_stored_payloads(contact)
        _scrub_admin_log(contact)
        record = append_erasure_record(
            provider=contact.provider,
            account_id=contact.account_id,
            external_id=contact.external_id,
            contact=contact,
            event_id=event_id,
            requested_by=requested_by,
            requested_by_type=requested_by_type,
            deleted_at=deleted_at,
            erased_at=now,
            reason=reason,
            reference=reference,
            erased_fields=erased_fields,
            redacted_events=redacted_events,
            email_fingerprint=email_fingerprint,
            phone_fingerprint=phone_fingerprint,
        )
        # Every system we shared the person with is told; the source too when the erasure started here.
        propagate_erasure(record, started_here=not event_id)
    # Said and counted once it holds: inside a webhook's transaction the erasure commits only with the event
    # (and a batch numbers its records at its end: the sequence is read when this runs).
    transaction.on_commit(partial(record_erasure, contact.provider))
    contact_pk, field_count = contact.pk, len(erased_fields)
    transaction.on_commit(
        lambda: logger.info(
            "erased contact %s (%s fields, %s payloads redacted), erasure record %s",
            contact_pk,
            field_count,
            redacted_events,
            record.sequence,
        )
    )
    return record


def _check_origin(origin: ErasureOrigin, *, event_id: str, deleted_at) -> None:
    if origin == ErasureOrigin.PROVIDER_DELETION and not event_id:
        raise ValueError("a provider's deletion names its event")
    if origin == ErasureOrigin.DATA_SUBJECT_REQUEST and (event_id or deleted_at):
        raise ValueError("a data-subject request has no provider event")


def _redact_stored_payloads(contact: Contact) -> int:
    """Have ``webhooks`` redact every stored payload of the contact; how many it did. Raises when no
    ``StoredEvents`` is registered (``manage.py check`` reports it as webhooks.E010): the payloads would
    stay unredacted while the log said 0."""
    return stored_events().rebuild_subject_copies(
        provider=contact.provider, account_id=contact.account_id, external_id=contact.external_id
    )


def erased_on_request(contact: Contact) -> bool:
    """True when the contact's last erasure was a data-subject request (admin, command), not the
    provider's own deletion: such an erasure is final whatever the provider does later. The log says
    so by the record's event id, which only a provider's deletion (or its restore) has."""
    last = contact.erasures.order_by("-sequence").only("event_id").first()
    return last is None or not last.event_id


def fingerprint(kind: str, value: str) -> str:
    """Keyed HMAC-SHA256 of a normalized email or phone, or '' when no key is configured.

    Never a plain hash: without the key (kept outside the database) a fingerprint cannot be tested
    against guesses.
    """
    key = settings.ERASURE_FINGERPRINT_KEY
    if not key or not value:
        return ""
    normalized = normalize_email(value).lower() if kind == "email" else normalize_phone(value)
    if kind == "phone" and normalized and not normalized.startswith("+"):
        # Unreadable as a number: compare its digits, so spacing and punctuation still do not matter.
        normalized = "".join(ch for ch in normalized if ch.isdigit())
    if not normalized:
        return ""
    return _keyed(kind, normalized)


def earlier_phone_fingerprint(value: str) -> str:
    """The fingerprint a record made before numbers typed with the ``00`` prefix were read as international
    holds for this number, or '': such a number was kept as typed, so its fingerprint is of ``00`` and its
    digits (``0055 47 99123-4567`` → ``005547991234567``). Looked up beside today's, by ``erasure_lookup``."""
    if not settings.ERASURE_FINGERPRINT_KEY or not value:
        return ""
    e164 = normalize_phone(value)
    return _keyed("phone", f"00{e164[1:]}") if e164.startswith("+") else ""


def _keyed(kind: str, normalized: str) -> str:
    key = settings.ERASURE_FINGERPRINT_KEY
    return hmac.new(key.encode(), f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


def personal_data_quoted(*, contact: Contact, text: str) -> list[str]:
    """Which of the contact's name, email and phone a text typed by staff quotes (empty: none). A guess, so it
    only guards text on rows an erasure reaches (a request's refusal reason), never what the log keeps."""
    folded = text.casefold()
    quoted = []
    name_words = [word for word in re.findall(r"\w+", contact.name.casefold()) if len(word) >= 3]
    if any(re.search(rf"\b{re.escape(word)}\b", folded) for word in name_words):
        quoted.append("name")
    email = contact.email.strip().casefold()
    local_part = email.split("@")[0]
    if email and (email in folded or (len(local_part) >= 3 and local_part in re.findall(r"[\w.+-]+", folded))):
        quoted.append("email")
    phone_digits = re.sub(r"\D", "", contact.phone)
    # The last 8 digits identify a phone however the text writes it (spaces, dashes, country code).
    if len(phone_digits) >= 8 and phone_digits[-8:] in re.sub(r"\D", "", text):
        quoted.append("phone")
    return quoted


def _scrub_admin_log(contact: Contact) -> None:
    """Admin history rows name the object by its str() at the time: rewrite them to the tombstone's.

    Their change messages are Django's JSON (field names, and the str() of related objects); anything
    else there is free text that may quote the person and is replaced as a whole.
    """
    content_type = ContentType.objects.get_for_model(Contact)
    entries = LogEntry.objects.filter(content_type=content_type, object_id=str(contact.pk))
    tombstone = str(contact)[:200]
    for entry in entries.only("pk", "change_message"):
        LogEntry.objects.filter(pk=entry.pk).update(
            object_repr=tombstone, change_message=_scrub_change_message(entry.change_message)
        )


def _scrub_change_message(message: str) -> str:
    if not message:
        return message
    try:
        parts = json.loads(message)
    except ValueError:
        return json.dumps([{"changed": {"fields": ["(erased)"]}}])
    if not isinstance(parts, list):
        return json.dumps([{"changed": {"fields": ["(erased)"]}}])
    scrubbed = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        clean = {}
        for action, detail in part.items():
            if isinstance(detail, dict):
                # "name" is a model's verbose name, "fields" are field labels; "object" names a person.
                detail = {k: (v if k in ("name", "fields") else "(erased)") for k, v in detail.items()}
            clean[action] = detail
        scrubbed.append(clean)
    return json.dumps(scrubbed)
