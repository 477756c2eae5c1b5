import hashlib
import json
from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contacts.search import SearchTextField

# Values the provider owns, set only by sync (rule 5 keeps local fields out of their reach).
SYNCED_FIELDS = (
    "name",
    "phone",
    "email",
    "avatar_url",
    "source",
    "tags",
    "custom_fields",
    "assigned_to",
    "status_id",
    "status",
    "sub_group_id",
    "can_sms",
    "can_email",
    "can_call",
    "last_sms_in_at",
    "last_sms_out_at",
    "last_call_at",
    "remote_created_at",
)
# Fields edited by our staff, never touched by sync.
LOCAL_FIELDS = ("notes",)
# Everything an erasure empties: every value that describes the person.
PERSONAL_FIELDS = SYNCED_FIELDS + ("remote_updated_at",) + LOCAL_FIELDS
# What a tombstone holds in each of them: nothing. The database refuses anything else on an erased row,
# whichever path writes it (save, update(), raw SQL).
TOMBSTONE_VALUES = models.Q(
    name="", phone="", email="", avatar_url="", source="", tags=[], custom_fields={}, assigned_to="",
    status_id__isnull=True, status="", sub_group_id="", can_sms__isnull=True, can_email__isnull=True,
    can_call__isnull=True, last_sms_in_at__isnull=True, last_sms_out_at__isnull=True, last_call_at__isnull=True,
    remote_created_at__isnull=True, remote_updated_at__isnull=True, notes="",
    # The folded copy of those values the search reads (contacts.search): personal data too.
    search_text="",
)  # fmt: skip


class TombstoneIsReadOnly(PermissionDenied):
    """A write would put a value back onto an erased contact. Only a newer state fetched from a provider
    whose deletions are soft brings it back (``contacts.services.refresh_contact``), after clearing
    ``erased_at``."""


class Contact(models.Model):
    provider = models.CharField(verbose_name=_("provider"), max_length=32)
    account_id = models.CharField(
        verbose_name=_("account id"),
        max_length=128,
        help_text=_("The provider account (Timely workspace, FPT location)."),
    )
    external_id = models.CharField(
        verbose_name=_("contact id"), max_length=128, help_text=_("The provider's contact id.")
    )

    # Provider-owned (read-only in admin).
    name = models.CharField(verbose_name=_("name"), max_length=255, blank=True)
    phone = models.CharField(
        verbose_name=_("phone"), max_length=64, blank=True, help_text=_("E.164 when the number is valid.")
    )
    email = models.CharField(verbose_name=_("email"), max_length=254, blank=True)
    avatar_url = models.URLField(verbose_name=_("avatar URL"), max_length=1000, blank=True)
    source = models.CharField(
        verbose_name=_("source"), max_length=32, blank=True, help_text=_("Channel the contact came from.")
    )
    tags = models.JSONField(verbose_name=_("tags"), default=list, blank=True)
    custom_fields = models.JSONField(verbose_name=_("custom fields"), default=dict, blank=True)
    assigned_to = models.CharField(
        verbose_name=_("assigned to"), max_length=128, blank=True, help_text=_("The provider's id of the staff member.")
    )
    status_id = models.PositiveIntegerField(verbose_name=_("status id"), null=True, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=64, blank=True, help_text=_("Label of status_id."))
    sub_group_id = models.CharField(verbose_name=_("sub-group id"), max_length=64, blank=True)
    can_sms = models.BooleanField(verbose_name=_("can SMS"), null=True, blank=True)
    can_email = models.BooleanField(verbose_name=_("can email"), null=True, blank=True)
    can_call = models.BooleanField(verbose_name=_("can call"), null=True, blank=True)
    last_sms_in_at = models.DateTimeField(verbose_name=_("last SMS in"), null=True, blank=True)
    last_sms_out_at = models.DateTimeField(verbose_name=_("last SMS out"), null=True, blank=True)
    last_call_at = models.DateTimeField(verbose_name=_("last call"), null=True, blank=True)
    remote_created_at = models.DateTimeField(verbose_name=_("created at the provider"), null=True, blank=True)
    remote_updated_at = models.DateTimeField(
        verbose_name=_("updated at the provider"),
        null=True,
        blank=True,
        help_text=_("Time of the newest applied change."),
    )

    # Local enrichment, editable in admin.
    notes = models.TextField(verbose_name=_("notes"), blank=True)

    # Sync bookkeeping.
    field_versions = models.JSONField(
        verbose_name=_("field versions"),
        default=dict,
        blank=True,
        help_text=_("Per field: [time of the change that set it, its dedupe key]."),
    )
    needs_refresh = models.BooleanField(
        verbose_name=_("needs refresh"), default=False, help_text=_("Known only in part; the provider has more.")
    )
    refresh_attempts = models.PositiveSmallIntegerField(
        verbose_name=_("refresh attempts"),
        default=0,
        help_text=_("Failed lookups of the current state since the last successful one."),
    )
    refresh_due_at = models.DateTimeField(
        verbose_name=_("refresh due at"),
        null=True,
        blank=True,
        help_text=_("A failed lookup is retried from this time on (backoff)."),
    )
    erased_at = models.DateTimeField(verbose_name=_("erased at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    # Folded name, email, phone, tags, custom field values and ids, rewritten on every save (contacts.search).
    search_text = SearchTextField(verbose_name=_("search text"))

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "account_id", "external_id"], name="contact_unique_provider_key"
            ),
            models.CheckConstraint(
                condition=models.Q(erased_at__isnull=True) | TOMBSTONE_VALUES,
                name="contact_tombstone_holds_no_personal_data",
                violation_error_message="An erased contact is read-only: it holds no personal data.",
            ),
        ]
        permissions = [
            ("erase_contact", "Can erase a contact's personal data (data-subject request)"),
            ("export_contact", "Can export contacts (CSV)"),
        ]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["phone"], name="contact_phone_idx"),
            models.Index(fields=["provider", "source"], name="contact_provider_source_idx"),
            # The admin's filters and its exact-id search; the "contains" search on search_text uses the
            # trigram index of migration 0007 on PostgreSQL.
            models.Index(fields=["source"], name="contact_source_idx"),
            models.Index(fields=["status"], name="contact_status_idx"),
            models.Index(fields=["sub_group_id"], name="contact_sub_group_idx"),
            models.Index(fields=["external_id"], name="contact_external_id_idx"),
            models.Index(
                fields=["needs_refresh"], condition=models.Q(needs_refresh=True), name="contact_needs_refresh_idx"
            ),
            models.Index(fields=["erased_at"], condition=models.Q(erased_at__isnull=False), name="contact_erased_idx"),
        ]

    def __str__(self):
        """How every page names the contact (titles, breadcrumbs, the admin's history, the erasure page).

        A tombstone's name is its row id only: it is what the admin's history is rewritten to on erasure.
        A contact known by its ids only (FPT sends no names) says so rather than look like a name.
        """
        if self.erased_at:
            return gettext("Erased contact #%(pk)s") % {"pk": self.pk}
        if self.name:
            return self.name
        return gettext("No name yet · %(provider)s #%(id)s") % {"provider": self.provider, "id": self.external_id}

    def save(self, *args, **kwargs):
        # Before the database's own check (the constraint above), with the fields named.
        if self.is_erased and (held := self.personal_fields_held()):
            raise TombstoneIsReadOnly(f"contact #{self.pk} is erased: {', '.join(held)} cannot be set")
        super().save(*args, **kwargs)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def personal_fields_held(self) -> list[str]:
        """The personal fields that hold a value (a tombstone holds none)."""
        return [name for name in PERSONAL_FIELDS if getattr(self, name) not in (None, "", [], {})]


class HashChained:
    """``hash = SHA-256(prev_hash + canonical JSON of HASHED_FIELDS)``: each row commits to all before it."""

    HASHED_FIELDS: tuple[str, ...] = ()

    def canonical_json(self) -> str:
        def value(name):
            item = getattr(self, name)
            if hasattr(item, "isoformat"):
                return item.astimezone(UTC).isoformat(timespec="microseconds")
            return item

        return json.dumps(
            {name: value(name) for name in self.HASHED_FIELDS},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
        )

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


class ContactAccess(models.Model):
    """The access trail: who read or exported contacts' data, when, and how (LGPD Art. 37).

    Ids only, never a copied value: ``contact`` for one contact's page or API read, ``rows`` for a list or
    a bulk export, ``filters`` for a list (parameter names; values only where they cannot describe a
    person, see ``contacts.access``). An erasure leaves these rows: they answer who saw the person before.
    """

    class Kind(models.TextChoices):
        CONTACT_PAGE = "contact_page", _("Contact page viewed (admin)")
        CONTACT_HISTORY = "contact_history", _("Contact's change history viewed (admin)")
        CONTACT_LIST = "contact_list", _("Contact list viewed (admin)")
        API_CONTACT = "api_contact", _("Contact read (API)")
        API_CONTACT_LIST = "api_contact_list", _("Contact list read (API)")
        CONTACTS_CSV = "contacts_csv", _("Contacts exported (CSV)")
        EVENTS_CSV = "events_csv", _("Webhook events exported (CSV)")
        EVENTS_JSON = "events_json", _("Webhook events exported (JSON)")
        ERASURES_CSV = "erasures_csv", _("Erasure log exported (CSV)")
        DATA_SUBJECT_EXPORT = "data_subject_export", _("Data-subject export")

    at = models.DateTimeField(_("at"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, db_index=False, related_name="+",
        verbose_name=_("user"), help_text=_("Empty for a management command (run by whoever has shell access)."),
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, db_index=False,
                                related_name="+", verbose_name=_("contact"))  # fmt: skip
    rows = models.PositiveIntegerField(
        _("rows"), null=True, blank=True, help_text=_("Lists and bulk exports: how many rows.")
    )
    filters = models.JSONField(
        _("filters"), default=dict, blank=True, help_text=_("Lists: the filter used, without personal data.")
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("contact access")
        verbose_name_plural = _("access trail")
        indexes = [
            models.Index(fields=["at"], name="access_at_idx"),
            models.Index(fields=["contact", "at"], name="access_contact_idx"),
            models.Index(fields=["user", "at"], name="access_user_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class DataSubjectRequest(models.Model):
    """One request a person made under LGPD Art. 18 (confirmation, access, correction, portability, erasure).

    The register is personal data too: it holds ids and a reference (a ticket number, checked so that it
    quotes nothing of the person), never the person's name, email or phone. After ``DSR_RETENTION_DAYS``
    from closing, ``contacts.requests.prune_data_subject_requests`` clears its links to people and staff and
    its free text; kind, dates, outcome and the erasure records stay.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("Confirmation that we process data")
        ACCESS = "access", _("Access to the data")
        CORRECTION = "correction", _("Correction")
        PORTABILITY = "portability", _("Portability")
        ERASURE = "erasure", _("Erasure")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        REFUSED = "refused", _("Refused")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_at = models.DateTimeField(
        _("due at"), blank=True, help_text=_("The answer's deadline: received at + DSR_DEADLINE_DAYS, unless set.")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    refusal_reason = models.TextField(
        _("refusal reason"), blank=True,
        help_text=_("Why the request was refused (required to refuse). Never the person's name, email or phone."),
    )  # fmt: skip
    reference = models.CharField(
        _("reference"), max_length=100, blank=True,
        help_text=_("The request's ticket number or channel. Never the person's name, email or phone."),
    )  # fmt: skip
    contacts = models.ManyToManyField(
        Contact, blank=True, related_name="data_subject_requests", verbose_name=_("contacts"),
        help_text=_("Every contact record of the person (one per provider account)."),
    )  # fmt: skip
    erasures = models.ManyToManyField(
        ErasureRecord, blank=True, related_name="data_subject_requests", verbose_name=_("erasure records"),
        help_text=_("The erasure log's records of the erasures that answered it."),
    )  # fmt: skip
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("handled by"),
    )  # fmt: skip
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    anonymized_at = models.DateTimeField(
        _("anonymized at"), null=True, blank=True,
        help_text=_("When retention cleared its links to people and its free text."),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        permissions = [("export_data_subject", "Can export what we hold about a data subject (access, portability)")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | (~models.Q(status="open") & models.Q(closed_at__isnull=False)),
                name="dsr_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused")
                | ~models.Q(refusal_reason="")
                | models.Q(anonymized_at__isnull=False),
                name="dsr_refusal_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="dsr_status_due_idx"),
            models.Index(fields=["closed_at"], name="dsr_closed_idx"),
        ]

    def __str__(self):
        return _("Request #%(pk)s (%(kind)s)") % {"pk": self.pk, "kind": self.get_kind_display()}

    def save(self, *args, **kwargs):
        if self.due_at is None and self.received_at is not None:
            self.due_at = self.received_at + timedelta(days=settings.DSR_DEADLINE_DAYS)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class DataSubjectExport(models.Model):
    """One export of what we hold about a person, made from a request (or by ``dsr_export --request``).

    Ids and the format only: the exported document itself is never kept.
    """

    class Format(models.TextChoices):
        JSON = "json", "JSON"
        HTML = "html", "HTML"

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="exports")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=8, choices=Format.choices)
    exported_at = models.DateTimeField(default=timezone.now)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty for a management command, and once retention cleared the request.",
    )  # fmt: skip

    class Meta:
        ordering = ["-exported_at", "-id"]
        verbose_name = _("data-subject export")

    def __str__(self):
        return f"{self.get_format_display()} export at {self.exported_at:%Y-%m-%d %H:%M}"
