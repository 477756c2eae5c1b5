"""Time sanity: a change dated later than its delivery's receipt plus ``WEBHOOK_TOLERANCE_SECONDS`` (the clock
skew a signature may have) counts as the receipt time.

Per-field last-write-wins orders changes by their time, and a provider's clock, a bug or a leaked secret can
date a change thousands of years ahead: that change would win for ever (every real update after it "stale")
and a soft deletion so dated would be older than no reactivation. The clamp lives here, in ``webhooks``,
because only the event log knows when a delivery arrived, and it is applied before the normalized event
crosses the bridge: ``contacts`` orders by sane times without knowing deliveries or payloads.
"""

from datetime import datetime, timedelta

from django.conf import settings

from webhooks.models import WebhookEvent

FUTURE_CHANGE_REASON = "change dated after its delivery's receipt (beyond the tolerance): counted as the receipt time"


def sane_change_time(event: WebhookEvent) -> datetime | None:
    """The event's time of change as processing orders it: its own, unless later than its receipt allows."""
    if event.occurred_at is None or event.received_at is None:
        return event.occurred_at
    if event.occurred_at > event.received_at + timedelta(seconds=settings.WEBHOOK_TOLERANCE_SECONDS):
        return event.received_at
    return event.occurred_at


def is_dated_in_the_future(event: WebhookEvent) -> bool:
    return sane_change_time(event) != event.occurred_at
