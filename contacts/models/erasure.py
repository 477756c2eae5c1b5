"""The erasure log (append-only, hash-chained records of every erasure) and the runs that verified it.

**How a record is hashed** (``hash_scheme``). Records written since reasons became codes (scheme 2) are hashed
through their fields' digests: ``hash = SHA-256(prev_hash + JSON of {field: SHA-256(field's canonical JSON)})``.
A field whose text is blanked later keeps its digest in ``blanked_digests``, so the record still hashes to
its ``hash`` and the chain still proves it. Records written before (scheme 1) were hashed over their values;
migration 0020 re-chained them through digests (``digest_hash``, chained like scheme 2 from the genesis) while
their text was whole, and kept their first ``hash`` and ``prev_hash`` beside it. A scheme-2 record follows
the previous record's ``link_hash``: its ``hash``, or a scheme-1 record's ``digest_hash``.
"""

import hashlib
import json
from datetime import UTC

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contacts.erasure_reasons import REFERENCE_HELP, REFERENCE_MAX_LENGTH, ErasureReason
from contacts.models.contact import Contact


def canonical_value(item):
    """A hashed field's value as the canonical JSON holds it: times in UTC to the microsecond."""
    if hasattr(item, "isoformat"):
        return item.astimezone(UTC).isoformat(timespec="microseconds")
    return item


def canonical(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class HashChained:
    """``hash = SHA-256(prev_hash + canonical JSON of HASHED_FIELDS)``: each row commits to all before it."""

    HASHED_FIELDS: tuple[str, ...] = ()
    # Fields added after rows were chained: covered when set, so the rows hashed before them still verify.
    HASHED_WHEN_SET: tuple[str, ...] = ()

    def canonical_json(self) -> str:
        return canonical(
            {name: canonical_value(getattr(self, name)) for name in self.HASHED_FIELDS + self.hashed_when_set()}
        )

    def hashed_when_set(self) -> tuple[str, ...]:
        return tuple(name for name in self.HASHED_WHEN_SET if getattr(self, name))

    def compute_hash(self) -> str:
        return sha256_hex(self.prev_hash + self.canonical_json())


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("the erasure log is append-only")

    def delete(self):
        raise PermissionDenied("the erasure log is append-only")

    def bulk_update(self, objs, fields, batch_size=None):
        raise PermissionDenied("the erasure log is append-only")


class ErasureRecord(HashChained, models.Model):
    """One erasure, append-only and hash-chained: ``hash = SHA-256(prev_hash + canonical JSON)``.

    Holds the contact's pseudonymous ids and no personal data; fingerprints are keyed HMACs, present
    only when ``ERASURE_FINGERPRINT_KEY`` is set.
    """

    sequence = models.PositiveBigIntegerField(verbose_name=_("sequence"), unique=True, editable=False)
    provider = models.CharField(verbose_name=_("provider"), max_length=32)
    account_id = models.CharField(verbose_name=_("account id"), max_length=128)
    external_id = models.CharField(verbose_name=_("contact id"), max_length=128)
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.PROTECT, null=True, related_name="erasures"
    )
    event_id = models.CharField(
        verbose_name=_("event id"), max_length=128, blank=True, help_text=_("The provider event that asked for it.")
    )
    requested_by = models.CharField(verbose_name=_("requested by"), max_length=150, blank=True)
    requested_by_type = models.CharField(
        verbose_name=_("requested by type"), max_length=32, help_text=_("attendant, api, admin, cli, ...")
    )
    deleted_at = models.DateTimeField(
        verbose_name=_("deleted at"), null=True, blank=True, help_text=_("When the source deleted the contact.")
    )
    erased_at = models.DateTimeField(verbose_name=_("erased at"), default=timezone.now)
    # A code (ErasureReason); empty only where free text written before codes was blanked (its digest stays).
    reason = models.TextField(verbose_name=_("reason"), choices=ErasureReason.choices, blank=True)
    reference = models.CharField(
        verbose_name=_("reference"), max_length=REFERENCE_MAX_LENGTH, blank=True, help_text=REFERENCE_HELP
    )
    erased_fields = models.JSONField(verbose_name=_("erased fields"), default=list)
    redacted_events = models.PositiveIntegerField(verbose_name=_("redacted events"), default=0)
    email_fingerprint = models.CharField(verbose_name=_("email fingerprint"), max_length=64, blank=True)
    phone_fingerprint = models.CharField(verbose_name=_("phone fingerprint"), max_length=64, blank=True)
    prev_hash = models.CharField(verbose_name=_("previous hash"), max_length=64)
    hash = models.CharField(verbose_name=_("hash"), max_length=64, unique=True)
    hash_scheme = models.PositiveSmallIntegerField(verbose_name=_("hash scheme"), default=2, editable=False)
    # Digests of fields whose text was blanked ({"reason": <SHA-256>}): the hash still covers them.
    blanked_digests = models.JSONField(verbose_name=_("blanked digests"), default=dict, blank=True, editable=False)
    # Scheme 1 only: the record's hash through digests (migration 0020), which the next record follows.
    digest_hash = models.CharField(verbose_name=_("digest hash"), max_length=64, blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    GENESIS_HASH = "0" * 64
    HASHED_FIELDS = (
        "sequence",
        "provider",
        "account_id",
        "external_id",
        "contact_id",
        "event_id",
        "requested_by",
        "requested_by_type",
        "deleted_at",
        "erased_at",
        "reason",
        "erased_fields",
        "redacted_events",
        "email_fingerprint",
        "phone_fingerprint",
    )
    # Scheme 2 hashes these through their digests; scheme 1 records hold an empty reference.
    DIGESTED_FIELDS = (*HASHED_FIELDS, "reference")
    # The only fields whose text may be blanked, their digests kept (PostgreSQL's trigger allows no other UPDATE
    # but recording a scheme-1 record's digest_hash once; docs/compliance.md).
    BLANKABLE_FIELDS = ("reason", "reference")

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ["-sequence"]
        permissions = [("export_erasurerecord", "Can export the erasure log (CSV)")]
        constraints = [
            # One successor per record: a second writer appending to the same head fails instead of forking.
            models.UniqueConstraint(fields=["prev_hash"], name="erasure_unique_prev_hash"),
        ]
        indexes = [
            models.Index(fields=["provider", "account_id", "external_id"], name="erasure_contact_idx"),
            models.Index(fields=["email_fingerprint"], name="erasure_email_fp_idx"),
            models.Index(fields=["phone_fingerprint"], name="erasure_phone_fp_idx"),
        ]

    def __str__(self):
        return gettext("Erasure #%(sequence)s of %(provider)s contact %(contact)s") % {
            "sequence": self.sequence, "provider": self.provider, "contact": self.external_id,
        }  # fmt: skip

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise PermissionDenied("the erasure log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("the erasure log is append-only")

    def compute_hash(self) -> str:
        """What ``hash`` must be: through the digests following ``prev_hash`` (scheme 2), or over the values
        (scheme 1, computable only while no text was blanked)."""
        if self.hash_scheme == 1:
            return super().compute_hash()
        return self.digest_chain_hash(self.prev_hash)

    def field_digest(self, name: str) -> str:
        if name in self.blanked_digests:
            return self.blanked_digests[name]
        return sha256_hex(canonical(canonical_value(getattr(self, name))))

    def digest_chain_hash(self, prev_link: str) -> str:
        """The record's hash through its fields' digests, following ``prev_link``."""
        digests = {name: self.field_digest(name) for name in self.DIGESTED_FIELDS}
        return sha256_hex(prev_link + canonical({"fields": digests, "hash_scheme": self.hash_scheme}))

    @property
    def link_hash(self) -> str:
        """What the next record's ``prev_hash`` follows."""
        return self.digest_hash if self.hash_scheme == 1 else self.hash


class ErasureLogVerification(HashChained, models.Model):
    """One run of ``verify_erasure_log``: the admin dashboard and ``/metrics`` show the last one.

    A successful run is the next run's checkpoint: its ``head_hash`` (the hash of record ``records``)
    commits to every record before it, so the next default run re-hashes only what came after. The runs
    are hash-chained themselves (``prev_hash``, ``hash``, like the erasure log), so a checkpoint cannot be
    rewritten to make the next run skip a forged record without breaking that chain too.
    """

    verified_at = models.DateTimeField(verbose_name=_("verified at"), default=timezone.now)
    ok = models.BooleanField(verbose_name=_("ok"))
    records = models.PositiveBigIntegerField(
        verbose_name=_("records"), help_text=_("Records in the chain as this run saw it.")
    )
    first_broken_sequence = models.PositiveBigIntegerField(
        verbose_name=_("first broken sequence"), null=True, blank=True
    )
    head_hash = models.CharField(
        verbose_name=_("head hash"),
        max_length=64,
        blank=True,
        help_text=_("Hash of the last record checked: a later run proves the log kept it."),
    )
    detail = models.TextField(verbose_name=_("detail"), blank=True)
    verified_by = models.CharField(
        verbose_name=_("verified by"), max_length=150, blank=True,
        help_text=_("The staff user who ran it from the admin; empty for manage.py verify_erasure_log."),
    )  # fmt: skip
    full = models.BooleanField(
        verbose_name=_("full"), default=True, help_text=_("Whether every record was re-hashed (--full).")
    )
    rehashed = models.PositiveBigIntegerField(
        verbose_name=_("re-hashed"), null=True, blank=True, help_text=_("Records this run re-hashed.")
    )
    prev_hash = models.CharField(
        verbose_name=_("previous hash"), max_length=64, blank=True, help_text=_("Hash of the previous run (chained).")
    )
    hash = models.CharField(verbose_name=_("hash"), max_length=64, blank=True)

    GENESIS_HASH = "0" * 64
    HASHED_FIELDS = (
        "verified_at", "ok", "records", "first_broken_sequence", "head_hash", "detail", "full", "rehashed",
    )  # fmt: skip
    HASHED_WHEN_SET = ("verified_by",)

    class Meta:
        verbose_name = _("erasure log verification")
        verbose_name_plural = _("erasure log verifications")
        ordering = ["-verified_at"]
        get_latest_by = "verified_at"
        indexes = [
            # The last run (dashboard, /metrics) and the last checkpoint, without reading the whole table.
            models.Index(fields=["verified_at", "id"], name="erasure_verification_idx"),
            models.Index(fields=["ok", "id"], name="erasure_verification_ok_idx"),
        ]

    def __str__(self):
        return f"{'OK' if self.ok else 'BROKEN'} {self.records} records at {self.verified_at:%Y-%m-%d %H:%M}"
