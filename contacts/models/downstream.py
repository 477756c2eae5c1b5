"""The systems we share contacts with, and what each erasure owes them (LGPD Art. 18 §6).

Every erasure lists the systems that must be told (``ErasurePropagation``): the webhook systems, told by a
signed message that ``webhooks`` delivers, and the manual ones (and, when the erasure started here, the
provider the contact came from), which a compliance user confirms once the deletion is done there, or
marks impossible with the reason. Such an answer is written once and never changed.
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models.erasure import ErasureRecord


class DownstreamKind(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook (told automatically)")
    MANUAL = "manual", _("Manual (someone deletes there and confirms)")


class DownstreamSystem(models.Model):
    name = models.CharField(verbose_name=_("name"), max_length=100, unique=True)
    kind = models.CharField(verbose_name=_("kind"), max_length=16, choices=DownstreamKind.choices)
    url = models.URLField(
        verbose_name=_("URL"), max_length=500, blank=True, help_text=_("Where erasure messages are posted.")
    )
    secrets = models.JSONField(
        verbose_name=_("signing secrets"),
        default=list,
        blank=True,
        help_text=_("Standard Webhooks secrets (whsec_…); during a rotation several, each one signs every message."),
    )
    active = models.BooleanField(
        verbose_name=_("active"), default=True, help_text=_("Inactive systems are told of no new erasure.")
    )
    note = models.TextField(
        verbose_name=_("note"), blank=True, help_text=_("What data about contacts this system holds, and who runs it.")
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("downstream system")
        verbose_name_plural = _("downstream systems")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def endpoint_key(self) -> str:
        """How the outbound sender knows this system."""
        return f"downstream-system-{self.pk}"


class PropagationKind(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    MANUAL = "manual", _("Manual")
    SOURCE = "source", _("Source provider (manual)")


class PropagationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    IMPOSSIBLE = "impossible", _("Impossible")


class ImpossibleReason(models.TextChoices):
    """LGPD Art. 18 §6's exception, as a closed list: no free text about an erased person."""

    PROVEN_IMPOSSIBLE = "proven_impossible", _("Telling them is provably impossible")
    DISPROPORTIONATE_EFFORT = "disproportionate_effort", _("It takes disproportionate effort")
    NEVER_RECEIVED = "never_received", _("The system never received this person's data")
    SYSTEM_DECOMMISSIONED = "system_decommissioned", _("The system no longer exists")


class ErasurePropagation(models.Model):
    """One system that one erasure must reach. Webhook entries take their status from the message's
    delivery (or are marked impossible once their system is deactivated or removed undelivered); manual ones
    are settled once (confirmed or impossible), by whom and when. An answer never changes."""

    # No database constraint: the erasure log guards itself (append-only, hash-chained); a record removed past
    # its guards must show as missing to verify_erasure_log, not be kept by this table's reference to it.
    erasure = models.ForeignKey(
        ErasureRecord, verbose_name=_("erasure record"), on_delete=models.DO_NOTHING, related_name="propagation",
        db_constraint=False,
    )  # fmt: skip
    system = models.ForeignKey(
        DownstreamSystem, verbose_name=_("system"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="propagation",
    )  # fmt: skip
    # The name at the time (the system may be renamed or removed later; the record keeps who was told).
    system_name = models.CharField(verbose_name=_("system"), max_length=100)
    kind = models.CharField(verbose_name=_("kind"), max_length=16, choices=PropagationKind.choices)
    # A webhook system's message, as the sender knows it (kept when the system is removed).
    message_id = models.CharField(verbose_name=_("message id"), max_length=64, blank=True)
    endpoint_key = models.CharField(verbose_name=_("endpoint key"), max_length=64, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), default=timezone.now)
    settled_status = models.CharField(
        verbose_name=_("answer"), max_length=16, blank=True,
        choices=[(PropagationStatus.CONFIRMED, PropagationStatus.CONFIRMED.label),
                 (PropagationStatus.IMPOSSIBLE, PropagationStatus.IMPOSSIBLE.label)],
    )  # fmt: skip
    settled_by = models.CharField(verbose_name=_("answered by"), max_length=150, blank=True)
    settled_at = models.DateTimeField(verbose_name=_("answered at"), null=True, blank=True)
    impossible_reason = models.CharField(
        verbose_name=_("why impossible"), max_length=32, blank=True, choices=ImpossibleReason.choices
    )

    class Meta:
        verbose_name = _("erasure propagation")
        verbose_name_plural = _("erasure propagation")
        ordering = ["erasure_id", "id"]
        constraints = [
            # A webhook system's notice is settled by its delivery, or marked impossible (a system that was
            # deactivated or removed before it got the message); never "confirmed" by hand.
            models.CheckConstraint(
                condition=models.Q(settled_status="")
                | models.Q(kind__in=["manual", "source"])
                | models.Q(settled_status="impossible"),
                name="propagation_webhook_answer_impossible",
            ),
            models.CheckConstraint(
                condition=~models.Q(settled_status="impossible") | ~models.Q(impossible_reason=""),
                name="propagation_impossible_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="propagation_created_idx")]
        permissions = [("settle_erasurepropagation", "Can confirm an erasure's notice or mark it impossible")]

    def __str__(self):
        return f"{self.system_name}: erasure #{self.erasure_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionDenied("a propagation entry is answered once (settle_propagation), never edited")
        super().save(*args, **kwargs)
