"""The contact: a person as one provider account knows them, our notes on them, and what sync and erasure
keep about it. A tombstone (``erased_at`` set) holds none of the personal fields, enforced by the database."""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.staff.answer_reads import collecting, note_read
from contacts.search import SearchTextField
from webhooks.events import CONTACT_FIELDS

# Values the provider owns, set only by sync (rule 5 keeps local fields out of their reach): the fields
# the bridge's events may set.
SYNCED_FIELDS = CONTACT_FIELDS
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

# A contact read with any of these shows the person's data (the folded search copy included).
NOTED_FIELDS = frozenset((*PERSONAL_FIELDS, "search_text"))
# The kind of read ``config.staff.answer_reads`` collects for a contact (its id).
CONTACT_READ = "contact"


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
            # trigram index of migration 0010 on PostgreSQL.
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

    @classmethod
    def from_db(cls, db, field_names, values):
        """Every contact read with its personal data while a request is answered is noted for the access trail
        (``contacts.access``): the one place every page, API read, action and export reads contacts through. A
        tombstone, or a row read without its personal fields, shows nobody's data."""
        contact = super().from_db(db, field_names, values)
        shows_data = not NOTED_FIELDS.isdisjoint(field_names)
        if collecting() and shows_data and ("erased_at" not in field_names or contact.erased_at is None):
            note_read(CONTACT_READ, contact.pk, row=contact)
        return contact

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def personal_fields_held(self) -> list[str]:
        """The personal fields that hold a value (a tombstone holds none)."""
        return [name for name in PERSONAL_FIELDS if getattr(self, name) not in (None, "", [], {})]
