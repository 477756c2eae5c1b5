"""The erasure log (append-only, hash-chained records of every erasure) and the runs that verified it."""

import hashlib
import json
from datetime import UTC

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models.contact import Contact


class HashChained:
    """``hash = SHA-256(prev_hash + canonical JSON of HASHED_FIELDS)``: each row commits to all before it."""

    HASHED_FIELDS: tuple[str, ...] = ()
    # Fields added after rows were chained: covered when set, so the rows hashed before them still verify.
    HASHED_WHEN_SET: tuple[str, ...] = ()

    def canonical_json(self) -> str:
        def value(name):
            item = getattr(self, name)
            if hasattr(item, "isoformat"):
                return item.astimezone(UTC).isoformat(timespec="microseconds")
            return item

        return json.dumps(
            {name: value(name) for name in self.HASHED_FIELDS + self.hashed_when_set()},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
        )

    def hashed_when_set(self) -> tuple[str, ...]:
        return tuple(name for name in self.HASHED_WHEN_SET if getattr(self, name))

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.canonical_json()).encode()).hexdigest()


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
    reason = models.TextField(verbose_name=_("reason"))
    erased_fields = models.JSONField(verbose_name=_("erased fields"), default=list)
    redacted_events = models.PositiveIntegerField(verbose_name=_("redacted events"), default=0)
    email_fingerprint = models.CharField(verbose_name=_("email fingerprint"), max_length=64, blank=True)
    phone_fingerprint = models.CharField(verbose_name=_("phone fingerprint"), max_length=64, blank=True)
    prev_hash = models.CharField(verbose_name=_("previous hash"), max_length=64)
    hash = models.CharField(verbose_name=_("hash"), max_length=64, unique=True)

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
        return f"Erasure #{self.sequence} of {self.provider} contact {self.external_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise PermissionDenied("the erasure log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("the erasure log is append-only")


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
