"""Claiming a worker's batch from the queue: the due events of contacts no other worker is applying.

An event in status ``received`` whose ``next_attempt_at`` has come is due (docs/architecture.md › The
queue). A batch first takes the locks of the contacts its events are about (``config.db.locks``), then locks
those events' rows. The worker takes contact locks without waiting and claims only the events of the
contacts it got, so events of one contact are never applied by two workers at once, and no worker holds
the rows of a contact another one may be erasing (an erasure redacts all of the contact's rows): nothing
waits in a cycle.
"""

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from config.db.locks import subjects_filter, try_lock_subjects
from webhooks.models import WebhookEvent, WebhookEventStatus

# Claim order: deletions first (an erasure never waits behind a backlog), then by due time.
CLAIM_ORDER = ("-erasure", "next_attempt_at", "id")
# How far down the queue a worker looks for contacts that no other worker holds (in batches).
CANDIDATE_WINDOW = 4
# Columns a batch never needs: the stored headers and the sender's address stay unread.
UNREAD_FIELDS = ("headers", "remote_addr")


def due_events() -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(status=WebhookEventStatus.RECEIVED, next_attempt_at__lte=timezone.now())


def due_events_exist() -> bool:
    return due_events().exists()


def claim_due_events(*, size: int) -> list[WebhookEvent]:
    """The due events of contacts nobody else is applying, deletions first, locked until commit.

    The locks come first, then the rows (see the module's docstring): a window of candidates is read
    without a lock, their contacts' locks are tried without waiting, a slice at a time, until the contacts
    got cover ``size`` candidates (another worker holds the first ones: this one goes on further down the
    queue instead of waiting); only then are those contacts' due events locked (``FOR UPDATE SKIP
    LOCKED``: a row someone else holds, a replay marking it, is left for next time). Call inside a
    transaction."""
    due = due_events()
    if connection.vendor != "postgresql":
        # One writer at a time (BEGIN IMMEDIATE): this transaction already excludes every other.
        return list(due.order_by(*CLAIM_ORDER).defer(*UNREAD_FIELDS)[:size])
    window = list(
        due.order_by(*CLAIM_ORDER).values_list("provider", "account_id", "external_id")[: size * CANDIDATE_WINDOW]
    )
    owned, tried, covered = set(), set(), 0
    for start in range(0, len(window), size):
        candidates = window[start : start + size]
        untried = {subject for subject in candidates if subject not in tried}
        tried |= untried
        owned |= try_lock_subjects(untried)
        covered += sum(1 for subject in candidates if subject in owned)
        if covered >= size:
            break
    if not owned:
        return []
    return list(
        due.filter(subjects_filter(owned))
        .order_by(*CLAIM_ORDER)
        .defer(*UNREAD_FIELDS)
        .select_for_update(skip_locked=True)[:size]
    )
