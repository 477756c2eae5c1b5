"""Telling every system we shared a person with that they were erased (LGPD Art. 18 §6), with receipts.

At each erasure, in its transaction: one ``ErasurePropagation`` per system that must be told (the active
webhook systems, every manual system, and the source provider as a manual task when the erasure started
here), and one signed message to all the webhook systems, which ``webhooks`` delivers from
``webhook_worker``. The message holds ids and times only: the receiver reads the rest from the API.
"""

from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from contacts.models import (
    DownstreamKind,
    DownstreamSystem,
    ErasurePropagation,
    ErasureRecord,
    ImpossibleReason,
    PropagationKind,
    PropagationStatus,
)
from contacts.services.downstream import outbound
from contacts.services.erasure_log import when_appended

ERASED_EVENT_TYPE = "contact.erased"
# Webhook statuses as the sender reports them, in the propagation's terms.
DELIVERY_STATUSES = {
    "pending": PropagationStatus.PENDING,
    "delivered": PropagationStatus.DELIVERED,
    "failed": PropagationStatus.FAILED,
}
DONE = {PropagationStatus.DELIVERED, PropagationStatus.CONFIRMED, PropagationStatus.IMPOSSIBLE}


class AlreadyAnswered(Exception):
    """The entry was confirmed or marked impossible already: an answer is never changed."""


class AlreadyDelivered(AlreadyAnswered):
    """The webhook system got the message before it could be marked impossible: delivered stands."""


# --- At each erasure -----------------------------------------------------------------------------------


def propagate_erasure(record: ErasureRecord, *, started_here: bool) -> None:
    """List who must be told of this erasure and queue the message, in the erasure's transaction (once its
    record is in the chain: a worker's batch appends its records at its end)."""
    when_appended(partial(_queue_notices, record, started_here=started_here))


def _queue_notices(record: ErasureRecord, *, started_here: bool) -> None:
    systems = list(
        DownstreamSystem.objects.filter(Q(kind=DownstreamKind.WEBHOOK, active=True) | Q(kind=DownstreamKind.MANUAL))
    )
    webhooks = [system for system in systems if system.kind == DownstreamKind.WEBHOOK]
    message_id = ""
    if webhooks:
        message_id = outbound().queue_messages(
            endpoint_keys=[system.endpoint_key for system in webhooks], event_type=ERASED_EVENT_TYPE,
            at=record.erased_at, data=erasure_message_data(record),
        )  # fmt: skip
    entries = [
        ErasurePropagation(
            erasure=record, system=system, system_name=system.name, kind=system.kind,
            message_id=message_id if system.kind == DownstreamKind.WEBHOOK else "",
            endpoint_key=system.endpoint_key if system.kind == DownstreamKind.WEBHOOK else "",
        )
        for system in systems
    ]  # fmt: skip
    if started_here:
        entries.append(ErasurePropagation(erasure=record, system_name=record.provider, kind=PropagationKind.SOURCE))
    ErasurePropagation.objects.bulk_create(entries)


def erasure_message_data(record: ErasureRecord) -> dict:
    """What a ``contact.erased`` message says: ids and times only (the API's contact id receivers match on)."""
    return {
        "id": record.contact_id,
        "provider": record.provider,
        "account_id": record.account_id,
        "external_id": record.external_id,
        "erased_at": _utc(record.erased_at),
        "erasure_id": record.pk,
    }


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- Answers and statuses -----------------------------------------------------------------------------


def settle_propagation(entry: ErasurePropagation, *, by: str, status: str, reason: str = "") -> None:
    """A compliance user's answer: for a manual entry, done there (``confirmed``) or ``impossible``; for a
    webhook entry whose system was deactivated or removed before delivering, ``impossible`` (its message is
    then never sent). ``impossible`` takes a reason from the closed list. Written once: a second answer
    raises ``AlreadyAnswered``; a webhook entry delivered meanwhile raises ``AlreadyDelivered``."""
    if entry.kind == PropagationKind.WEBHOOK:
        if status != PropagationStatus.IMPOSSIBLE:
            raise ValueError("a webhook system's notice is settled by its delivery")
        if not webhook_may_be_marked_impossible(entry):
            raise ValueError("only a deactivated or removed system's notice may be marked impossible")
    if status == PropagationStatus.CONFIRMED:
        reason = ""
    elif status != PropagationStatus.IMPOSSIBLE or reason not in ImpossibleReason.values:
        raise ValueError("an impossible notice needs one of the listed reasons")
    with transaction.atomic():
        # One conditional UPDATE: of two staff answering at once, one wins and the other is told.
        answered = ErasurePropagation.objects.filter(pk=entry.pk, settled_status="").update(
            settled_status=status, settled_by=by[:150], settled_at=timezone.now(), impossible_reason=reason
        )
        if not answered:
            raise AlreadyAnswered(f"propagation entry {entry.pk} was answered already")
        if entry.kind == PropagationKind.WEBHOOK and entry.message_id and not _cancel_message(entry):
            raise AlreadyDelivered(f"propagation entry {entry.pk} was delivered already")


def _cancel_message(entry: ErasurePropagation) -> bool:
    return outbound().cancel_outbound_message(message_id=entry.message_id, endpoint_key=entry.endpoint_key)


def mark_undelivered_impossible(system: DownstreamSystem, *, by: str, reason: str) -> int:
    """Every notice to this deactivated webhook system not delivered yet, marked impossible with the reason
    (its messages never sent). Returns how many; one delivered meanwhile stays delivered."""
    if system.active or system.kind != DownstreamKind.WEBHOOK:
        raise ValueError("only a deactivated webhook system's notices may be marked impossible")
    undelivered = ErasurePropagation.objects.filter(
        system=system, kind=PropagationKind.WEBHOOK, settled_status="",
        message_id__in=outbound().undelivered_message_ids(created_before=timezone.now()),
    )  # fmt: skip
    marked = 0
    for entry in undelivered:
        try:
            settle_propagation(entry, by=by, status=PropagationStatus.IMPOSSIBLE, reason=reason)
        except AlreadyAnswered:
            continue  # answered by someone else meanwhile, or delivered before the system was deactivated
        marked += 1
    return marked


def undelivered_notices(systems: list[DownstreamSystem]) -> dict[int, int]:
    """System id → how many of its erasure notices are neither delivered nor answered."""
    undelivered = outbound().undelivered_message_ids(created_before=timezone.now())
    rows = (
        ErasurePropagation.objects.filter(system__in=systems, settled_status="", message_id__in=undelivered)
        .values_list("system_id")
        .annotate(count=Count("id"))
    )
    return dict(rows)


def webhook_may_be_marked_impossible(entry: ErasurePropagation) -> bool:
    """A webhook entry may be marked impossible once its system is deactivated or removed (Art. 18 §6's
    exception: the system is gone, or no longer takes messages); whether it was delivered is the sender's."""
    system = DownstreamSystem.objects.filter(pk=entry.system_id).first() if entry.system_id else None
    return system is None or not system.active


def propagation_of(records: list[ErasureRecord]) -> dict[int, list[dict]]:
    """Erasure id → ``[{"system", "status", "at", ...}]`` for each of the records, in two queries."""
    entries = list(
        ErasurePropagation.objects.filter(erasure__in=records).select_related("system").order_by("erasure_id", "id")
    )
    deliveries = outbound().message_statuses(message_ids={e.message_id for e in entries if e.message_id})
    result: dict[int, list[dict]] = {record.pk: [] for record in records}
    for entry in entries:
        result[entry.erasure_id].append(_status_of(entry, deliveries))
    return result


def _status_of(entry: ErasurePropagation, deliveries: dict) -> dict:
    if entry.settled_status:
        status, at = PropagationStatus(entry.settled_status), entry.settled_at
    elif entry.kind == PropagationKind.WEBHOOK:
        status, at = deliveries.get((entry.message_id, entry.endpoint_key), ("pending", None))
        status = DELIVERY_STATUSES.get(status, PropagationStatus.PENDING)
    else:
        status, at = PropagationStatus.AWAITING_CONFIRMATION, None
    return {
        "system": entry.system_name,
        "kind": entry.kind,
        "status": status,
        "at": at,
        "by": entry.settled_by,
        "reason": entry.impossible_reason,
        "entry": entry,
        # Whether staff may answer now: a manual task not answered yet, or an undelivered notice to a webhook
        # system that was deactivated or removed (only "impossible" then).
        "answerable": status == PropagationStatus.AWAITING_CONFIRMATION
        or (
            entry.kind == PropagationKind.WEBHOOK
            and status in (PropagationStatus.PENDING, PropagationStatus.FAILED)
            and (entry.system is None or not entry.system.active)
        ),
    }


def overdue_erasures(*, limit: int = 20) -> tuple[int, list[ErasureRecord]]:
    """Erasures older than ERASURE_PROPAGATION_HOURS not yet delivered to or confirmed by every system:
    how many, and the oldest ``limit`` of them."""
    before = timezone.now() - timedelta(hours=settings.ERASURE_PROPAGATION_HOURS)
    late = ErasurePropagation.objects.filter(created_at__lt=before)
    undelivered = outbound().undelivered_message_ids(created_before=before)
    open_entries = late.filter(
        Q(kind__in=[PropagationKind.MANUAL, PropagationKind.SOURCE], settled_status="")
        | Q(kind=PropagationKind.WEBHOOK, settled_status="", message_id__in=undelivered)
    )
    erasure_ids = open_entries.values("erasure_id")
    overdue = ErasureRecord.objects.filter(pk__in=erasure_ids).order_by("sequence")
    return overdue.count(), list(overdue[:limit])


def request_recipients(records: list[ErasureRecord]) -> dict:
    """For a data-subject request's answer: every recipient of its erasures with its status, and the ones
    not done yet (delivered, confirmed or impossible), which the desk keeps as follow-ups."""
    entries = [entry for per_record in propagation_of(records).values() for entry in per_record]
    return {"recipients": entries, "follow_ups": [entry for entry in entries if entry["status"] not in DONE]}
