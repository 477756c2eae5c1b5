"""The request desk's register: data-subject requests (LGPD Art. 18) and the exports that answered them."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models.contact import Contact
from contacts.models.erasure import ErasureRecord


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
        # One request for both, answered in that order: the person gets their copy, then nothing is left.
        ACCESS_AND_ERASURE = "access_erasure", _("Access, then erasure")

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

    @property
    def asks_access(self) -> bool:
        return self.kind in (self.Kind.ACCESS, self.Kind.PORTABILITY, self.Kind.ACCESS_AND_ERASURE)

    @property
    def asks_erasure(self) -> bool:
        return self.kind in (self.Kind.ERASURE, self.Kind.ACCESS_AND_ERASURE)


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
