"""Where outbound messages wait and what became of them (Svix's shape: a message per endpoint, its tries).

A message's body is written once, when it is queued, and sent as is on every try under the same
``webhook-id``; each try is signed anew (the timestamp is the try's). A receiver's answer is kept as its
status code and time only, never its body.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboundEndpoint(models.Model):
    """A receiver as the sender sees it: whoever owns the system keeps this row up to date by its key."""

    key = models.CharField(verbose_name=_("key"), max_length=64, unique=True)
    label = models.CharField(
        verbose_name=_("label"), max_length=100, help_text=_("The system's name, as metrics and lists show it.")
    )
    url = models.URLField(verbose_name=_("URL"), max_length=500)
    # Standard Webhooks secrets (``whsec_`` + base64); every active one signs each try (rotation).
    secrets = models.JSONField(verbose_name=_("secrets"), default=list)
    active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        verbose_name = _("outbound endpoint")
        verbose_name_plural = _("outbound endpoints")
        ordering = ["label"]

    def __str__(self):
        return self.label


class OutboundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    # Never to be sent: its recipient was told some other way or cannot be (decided by the message's owner).
    CANCELLED = "cancelled", _("Cancelled")


class OutboundMessage(models.Model):
    """One message to one endpoint: the work (``pending`` and due) and its outcome."""

    message_id = models.CharField(
        verbose_name=_("message id"), max_length=64, help_text=_("Sent as webhook-id, the same on every try.")
    )
    endpoint = models.ForeignKey(
        OutboundEndpoint, verbose_name=_("endpoint"), on_delete=models.PROTECT, related_name="messages"
    )
    event_type = models.CharField(verbose_name=_("type"), max_length=64)
    body = models.TextField(verbose_name=_("body"))
    created_at = models.DateTimeField(verbose_name=_("created at"), default=timezone.now)
    status = models.CharField(
        verbose_name=_("status"), max_length=16, choices=OutboundStatus.choices, default=OutboundStatus.PENDING
    )
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt at"), default=timezone.now)
    # Tries stop after OUTBOUND_GIVE_UP_HOURS counted from here (a replay starts the count again).
    retry_since = models.DateTimeField(verbose_name=_("retried since"), default=timezone.now)
    last_attempt_at = models.DateTimeField(verbose_name=_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(verbose_name=_("last status code"), null=True, blank=True)
    last_error = models.CharField(verbose_name=_("last error"), max_length=64, blank=True)
    delivered_at = models.DateTimeField(verbose_name=_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "message_id"], name="outboundmessage_unique_per_endpoint"),
        ]
        indexes = [
            # The queue: due pending messages in claim order (webhook_worker), the pending ones only.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="outboundmessage_due_idx",
            ),
            # One endpoint's due messages in claim order (each endpoint's delivering thread claims its own).
            models.Index(
                fields=["endpoint", "next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="outboundmsg_endpoint_due_idx",
            ),
            models.Index(fields=["message_id"], name="outboundmessage_id_idx"),
        ]
        permissions = [("replay_outboundmessage", "Can replay outbound messages")]

    def __str__(self):
        return f"{self.event_type} {self.message_id} → {self.endpoint_id}"


class OutboundAttempt(models.Model):
    """One try: when, how long, the receiver's status code or why there was none. Never the answer's body."""

    message = models.ForeignKey(
        OutboundMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(verbose_name=_("attempted at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(verbose_name=_("status code"), null=True, blank=True)
    error = models.CharField(verbose_name=_("error"), max_length=64, blank=True)
    duration_ms = models.PositiveIntegerField(verbose_name=_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("outbound attempt")
        verbose_name_plural = _("outbound attempts")
        ordering = ["-attempted_at", "-id"]

    def __str__(self):
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
