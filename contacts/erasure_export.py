"""Erasures that survive a database restore: the erasure log exported for off-site storage, and re-applied
after a restore to every contact whose erasure the restored log lacks (docs/compliance.md).

The export holds pseudonymous ids and keyed fingerprints only: no reason text, no staff names.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.db.locks import lock_subjects
from config.ops.progress import progress
from contacts.erasure_reasons import ErasureReason, is_reference
from contacts.models import Contact, ErasureRecord
from contacts.services.erasure import ErasureOrigin, erase_locked_contact

EXPORT_DOCUMENT = "crm-sync erasure log export"
EXPORT_VERSION = 1
KEY_FIELDS = ("provider", "account_id", "external_id")
EXPORTED_FIELDS = ("sequence", *KEY_FIELDS, "contact_id", "event_id", "requested_by_type", "deleted_at",
                   "erased_at", "erased_fields", "email_fingerprint", "phone_fingerprint", "hash")  # fmt: skip
REQUIRED_TEXT = (*KEY_FIELDS, "hash")


def erasure_log_export() -> dict:
    """The whole log, oldest first; each record says whether its contact was still erased when exported
    (a contact its provider reactivated since must not be erased again by a restore)."""
    records = []
    for record in ErasureRecord.objects.select_related("contact").order_by("sequence").iterator(chunk_size=1000):
        entry = {name: _plain(getattr(record, name)) for name in EXPORTED_FIELDS}
        entry["erased_at_export"] = record.contact is None or record.contact.is_erased
        records.append(entry)
    return {
        "document": EXPORT_DOCUMENT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "records": records,
    }


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


class InvalidExport(ValueError):
    """The file is not an erasure log export this version can read (its message says what is wrong)."""


def validated_records(document) -> list[dict]:
    if not isinstance(document, dict) or document.get("document") != EXPORT_DOCUMENT:
        raise InvalidExport("not an erasure log export (made by `manage.py export_erasure_log`)")
    if document.get("version") != EXPORT_VERSION:
        raise InvalidExport(f"export version {document.get('version')!r} is not supported (expected {EXPORT_VERSION})")
    records = document.get("records")
    if not isinstance(records, list):
        raise InvalidExport("'records' must be a list")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidExport(f"record {index}: not an object")
        for name in REQUIRED_TEXT:
            if not isinstance(record.get(name), str) or not record[name] or "\x00" in record[name]:
                raise InvalidExport(f"record {index}: '{name}' must be a non-empty text")
        if not isinstance(record.get("sequence"), int):
            raise InvalidExport(f"record {index}: 'sequence' must be a number")
        deleted_at = record.get("deleted_at")
        if deleted_at is not None and (not isinstance(deleted_at, str) or _parsed(deleted_at) is None):
            raise InvalidExport(f"record {index}: 'deleted_at' must be an ISO-8601 time or null")
        if not isinstance(record.get("event_id", ""), str):
            raise InvalidExport(f"record {index}: 'event_id' must be a text")
    return records


def _parsed(text: str):
    try:
        return parse_datetime(text)
    except ValueError:
        return None


@dataclass
class ReapplyReport:
    missing: int = 0
    erased: list[int] = field(default_factory=list)  # contact ids erased again
    already_erased: int = 0
    reactivated: int = 0  # not erased at export time: the provider brought them back since


def reapply_erasures(document, *, progress_stream=None) -> ReapplyReport:
    """After a restore: erase again every contact the export names whose record the restored log lacks.
    Each erasure goes through the one erasure service (``contacts.services.erasure``: it redacts payloads and
    appends a record to the chain) as a restore, keeping the exported record's event id and with it whether
    it was a provider's deletion or a data-subject request. A contact the restored database does not know
    gets a tombstone, so late deliveries about it are redacted.
    With ``progress_stream``, progress is shown there (config.ops.progress).
    """
    records = validated_records(document)
    known = set(ErasureRecord.objects.filter(hash__in=[r["hash"] for r in records]).values_list("hash", flat=True))
    missing = [record for record in records if record["hash"] not in known]
    latest = {}
    for record in sorted(missing, key=lambda r: r["sequence"]):
        latest[tuple(record[name] for name in KEY_FIELDS)] = record
    report = ReapplyReport(missing=len(missing))
    with progress(total=len(latest), desc="re-applying erasures", stream=progress_stream, unit="contacts") as bar:
        for key, record in latest.items():
            bar.update(1)
            if not record.get("erased_at_export", True):
                report.reactivated += 1
                continue
            with transaction.atomic():
                # The contact's lock first, as every writer of it takes (config.db.locks): workers may be running.
                lock_subjects([key])
                contact, _ = Contact.objects.select_for_update().get_or_create(
                    **dict(zip(KEY_FIELDS, key, strict=True))
                )
                if contact.is_erased:  # a tombstone holds nothing to erase (the database's constraint)
                    report.already_erased += 1
                    continue
                erase_locked_contact(
                    contact=contact,
                    origin=ErasureOrigin.RESTORE,
                    requested_by="",
                    requested_by_type="restore",
                    reason=ErasureReason.RESTORE,
                    reference=restore_reference(record["sequence"]),
                    deleted_at=_parsed(record["deleted_at"]) if record.get("deleted_at") else None,
                    event_id=record.get("event_id") or "",
                )
            report.erased.append(contact.pk)
    return report


def restore_reference(sequence) -> str:
    """The re-applied record names the exported one (``RESTORE-<its sequence>``) where the pattern allows."""
    reference = f"RESTORE-{sequence}"
    return reference if is_reference(reference) else ""
