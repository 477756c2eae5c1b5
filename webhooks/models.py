import json

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.staff.answer_reads import collecting
from config.values.timestamps import display_time
from webhooks.bridge import access_trail
from webhooks.readable import readable_rejection

# An event read with these shows a payload about a known subject.
PAYLOAD_SUBJECT_FIELDS = frozenset({"body", "provider", "account_id", "external_id"})


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class WebhookEvent(models.Model):
    """One accepted delivery, stored before we answer 2xx (sync rule 1).

    The log of what arrived is kept apart from what it meant: the raw body stays as received (until an
    erasure redacts it or retention drops it), the outcome is recorded beside it.
    """

    provider = models.CharField(verbose_name=_("provider"), max_length=32)
    dedupe_key = models.CharField(
        verbose_name=_("dedupe key"),
        max_length=128,
        help_text=_("The provider's event id, or the SHA-256 of the body when it sends none."),
    )
    event_id = models.CharField(
        verbose_name=_("event id"), max_length=128, blank=True, help_text=_("The provider's event id, if any.")
    )
    event_type = models.CharField(verbose_name=_("event type"), max_length=100)
    account_id = models.CharField(verbose_name=_("account id"), max_length=128)
    external_id = models.CharField(
        verbose_name=_("contact id"), max_length=128, blank=True, help_text=_("The provider's contact id.")
    )
    occurred_at = models.DateTimeField(
        verbose_name=_("occurred at"), null=True, blank=True, help_text=_("When the change happened upstream.")
    )
    received_at = models.DateTimeField(verbose_name=_("received at"), default=timezone.now)
    processed_at = models.DateTimeField(verbose_name=_("processed at"), null=True, blank=True)
    status = models.CharField(
        verbose_name=_("status"), max_length=16, choices=WebhookEventStatus.choices, default=WebhookEventStatus.RECEIVED
    )
    status_reason = models.TextField(
        verbose_name=_("status reason"), blank=True, help_text=_("Why it was ignored or failed; stale fields.")
    )
    changed_fields = models.JSONField(
        verbose_name=_("changed fields"),
        default=list,
        blank=True,
        help_text=_("Fields the event changed (names only)."),
    )
    drift = models.JSONField(
        verbose_name=_("drift"),
        default=list,
        blank=True,
        help_text=_("Fields whose 'before' differed from our value (names only)."),
    )
    actor_id = models.CharField(
        verbose_name=_("actor id"), max_length=128, blank=True, help_text=_("Who made the change at the provider.")
    )
    actor_type = models.CharField(verbose_name=_("actor type"), max_length=32, blank=True)
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    # The event log is the queue: an event in status ``received`` whose ``next_attempt_at`` has come is
    # work for ``webhook_worker``. Due on arrival; a transient failure moves it later (backoff).
    next_attempt_at = models.DateTimeField(
        verbose_name=_("next attempt at"),
        null=True,
        blank=True,
        default=timezone.now,
        help_text=_("When the event is (next) due to be applied."),
    )
    erasure = models.BooleanField(
        verbose_name=_("erasure"), default=False, help_text=_("A deletion: claimed before any other due event.")
    )
    body = models.BinaryField(
        verbose_name=_("body"), null=True, help_text=_("The raw bytes as received (redacted in place on erasure).")
    )
    headers = models.JSONField(verbose_name=_("headers"), default=dict, blank=True)
    signature_form = models.CharField(verbose_name=_("signature form"), max_length=32)
    remote_addr = models.GenericIPAddressField(verbose_name=_("remote address"), null=True, blank=True)
    redacted_at = models.DateTimeField(verbose_name=_("redacted at"), null=True, blank=True)
    payload_purged_at = models.DateTimeField(verbose_name=_("payload purged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "dedupe_key"], name="webhookevent_unique_dedupe_key"),
        ]
        indexes = [
            models.Index(fields=["provider", "account_id", "external_id"], name="webhookevent_contact_idx"),
            # Failed events, for staff's attention (the dashboard's count and list). Partial: an event
            # is indexed here only once it fails, so ingest and the worker do not write it for every event.
            models.Index(
                fields=["received_at"],
                condition=models.Q(status=WebhookEventStatus.FAILED),
                name="webhookevent_failed_idx",
            ),
            models.Index(fields=["event_type"], name="webhookevent_type_idx"),
            # The admin dashboard's events-per-hour window and the list's date navigation.
            models.Index(fields=["received_at"], name="webhookevent_received_idx"),
            # The queue: due events, deletions first, then by due time (webhook_worker's claim).
            models.Index(
                fields=["-erasure", "next_attempt_at", "id"],
                condition=models.Q(status=WebhookEventStatus.RECEIVED),
                name="webhookevent_due_idx",
            ),
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

    @classmethod
    def from_db(cls, db, field_names, values):
        """An event read with its payload while a request is answered (an admin page or export, an API read) is
        told to the access trail, naming its subject: the one place every page reads payloads through."""
        event = super().from_db(db, field_names, values)
        if collecting() and PAYLOAD_SUBJECT_FIELDS.issubset(field_names) and event.body is not None:
            tell_payload_read(event)
        return event

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

    provider = models.CharField(verbose_name=_("provider"), max_length=32)
    reason = models.CharField(verbose_name=_("reason"), max_length=100)
    hour = models.DateTimeField(verbose_name=_("hour"))
    count = models.PositiveIntegerField(verbose_name=_("count"), default=0)
    last_remote_addr = models.GenericIPAddressField(verbose_name=_("last remote address"), null=True, blank=True)

    class Meta:
        verbose_name = _("rejected delivery")
        verbose_name_plural = _("rejected deliveries")
        ordering = ["-hour"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "reason", "hour"], name="rejecteddelivery_unique_hour"),
        ]

    def __str__(self):
        return f"{self.provider}: {readable_rejection(self.reason)} ×{self.count}"


class ErasedSubject(models.Model):
    """Contacts whose data was erased, so that a late delivery about them is redacted before it is saved.

    Holds ids only (the provider's pseudonymous contact id).
    """

    provider = models.CharField(verbose_name=_("provider"), max_length=32)
    account_id = models.CharField(verbose_name=_("account id"), max_length=128)
    external_id = models.CharField(verbose_name=_("contact id"), max_length=128)
    erased_at = models.DateTimeField(verbose_name=_("erased at"), default=timezone.now)

    class Meta:
        verbose_name = _("erased subject")
        verbose_name_plural = _("erased subjects")
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

    purged_at = models.DateTimeField(verbose_name=_("purged at"), default=timezone.now)
    cutoff = models.DateTimeField(
        verbose_name=_("cutoff"), help_text=_("Payloads received before this time were dropped.")
    )
    events = models.PositiveIntegerField(verbose_name=_("events"), help_text=_("How many payloads this run dropped."))
    by = models.CharField(verbose_name=_("by"), max_length=150, help_text=_("Who ran it (a username, or 'cli')."))

    class Meta:
        verbose_name = _("payload purge")
        verbose_name_plural = _("payload purges")
        ordering = ["-purged_at"]
        get_latest_by = "purged_at"

    def __str__(self):
        return ngettext(
            "%(count)d payload received before %(cutoff)s purged",
            "%(count)d payloads received before %(cutoff)s purged",
            self.events,
        ) % {"count": self.events, "cutoff": display_time(self.cutoff)}


def tell_payload_read(event: WebhookEvent) -> None:
    """The access trail (kept by contacts, reached through the bridge) learns that this event's payload is part
    of the answer under way."""
    if event.external_id:
        access_trail().note_payload_read(
            provider=event.provider, account_id=event.account_id, external_id=event.external_id, row=event
        )


# The outbound sender's models live beside it; imported here so Django registers them with the app.
from webhooks.outbound.models import OutboundAttempt, OutboundEndpoint, OutboundMessage, OutboundStatus  # noqa: E402, F401
