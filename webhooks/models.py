import json

from django.db import models
from django.utils import timezone


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class WebhookEvent(models.Model):
    """One accepted delivery, stored before we answer 2xx (sync rule 1).

    The log of what arrived is kept apart from what it meant: the raw body stays as received (until an
    erasure redacts it or retention drops it), the outcome is recorded beside it.
    """

    provider = models.CharField(max_length=32)
    dedupe_key = models.CharField(
        max_length=128, help_text="The provider's event id, or the SHA-256 of the body when it sends none."
    )
    event_id = models.CharField(max_length=128, blank=True, help_text="The provider's event id, if any.")
    event_type = models.CharField(max_length=100)
    account_id = models.CharField(max_length=128)
    external_id = models.CharField(max_length=128, blank=True, help_text="The provider's contact id.")
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="When the change happened upstream.")
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=WebhookEventStatus.choices, default=WebhookEventStatus.RECEIVED)
    status_reason = models.TextField(blank=True, help_text="Why it was ignored or failed; stale fields.")
    changed_fields = models.JSONField(default=list, blank=True, help_text="Fields the event changed (names only).")
    drift = models.JSONField(
        default=list, blank=True, help_text="Fields whose 'before' differed from our value (names only)."
    )
    actor_id = models.CharField(max_length=128, blank=True, help_text="Who made the change at the provider.")
    actor_type = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a transient failure will be retried (the event stays received)."
    )
    body = models.BinaryField(null=True, help_text="The raw bytes as received (redacted in place on erasure).")
    headers = models.JSONField(default=dict, blank=True)
    signature_form = models.CharField(max_length=32)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)
    payload_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "dedupe_key"], name="webhookevent_unique_dedupe_key"),
        ]
        indexes = [
            models.Index(fields=["provider", "account_id", "external_id"], name="webhookevent_contact_idx"),
            models.Index(fields=["status", "received_at"], name="webhookevent_status_idx"),
            models.Index(fields=["event_type"], name="webhookevent_type_idx"),
            # The admin dashboard's events-per-hour window and the list's date navigation.
            models.Index(fields=["received_at"], name="webhookevent_received_idx"),
            # What /metrics counts at every scrape (pending events and the oldest one's age): a small index
            # of the pending rows only, read without touching the table.
            models.Index(
                fields=["provider", "received_at"],
                condition=models.Q(status="received"),
                name="webhookevent_pending_idx",
            ),
        ]
        permissions = [
            ("reprocess_webhookevent", "Can reprocess webhook events"),
            # Exports carry raw payloads out of the database, beyond the reach of a later erasure.
            ("export_webhookevent", "Can export webhook events with their payloads"),
        ]

    def __str__(self):
        return f"{self.provider} {self.event_type} #{self.pk}"

    @property
    def payload(self):
        """The stored body as JSON (redacted once the contact was erased; None once purged)."""
        if self.body is None:
            return None
        return json.loads(bytes(self.body))


class RejectedDelivery(models.Model):
    """Requests that failed verification are not stored, only counted: per provider, reason and hour.

    A flood of forged requests therefore adds at most one row per reason an hour.
    """

    provider = models.CharField(max_length=32)
    reason = models.CharField(max_length=100)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    last_remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-hour"]
        verbose_name_plural = "rejected deliveries"
        constraints = [
            models.UniqueConstraint(fields=["provider", "reason", "hour"], name="rejecteddelivery_unique_hour"),
        ]

    def __str__(self):
        return f"{self.provider}: {self.reason} ×{self.count}"


class ErasedSubject(models.Model):
    """Contacts whose data was erased, so that a late delivery about them is redacted before it is saved.

    Holds ids only (the provider's pseudonymous contact id).
    """

    provider = models.CharField(max_length=32)
    account_id = models.CharField(max_length=128)
    external_id = models.CharField(max_length=128)
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "account_id", "external_id"], name="erasedsubject_unique_contact"
            ),
        ]

    def __str__(self):
        return f"{self.provider}/{self.account_id}/{self.external_id}"


class PayloadPurge(models.Model):
    """One run of the retention purge (``prune_webhook_events``): what it dropped and up to when.

    The events keep their rows and dedupe keys; only their bodies go.
    """

    purged_at = models.DateTimeField(default=timezone.now)
    cutoff = models.DateTimeField(help_text="Payloads received before this time were dropped.")
    events = models.PositiveIntegerField(help_text="How many payloads this run dropped.")
    by = models.CharField(max_length=150, help_text="Who ran it (a username, or 'cli').")

    class Meta:
        ordering = ["-purged_at"]
        get_latest_by = "purged_at"

    def __str__(self):
        return f"{self.events} payload(s) received before {self.cutoff:%Y-%m-%d %H:%M} purged"
