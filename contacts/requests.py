"""The data-subject request desk (LGPD Art. 18 and 19): what a request concerns, its deadline, the export of
what we hold about the person, the erasure that answers it, and the register's own retention.

Callers (the admin, ``dsr_export``, ``prune_data_subject_requests``, the API) stay thin and call these.
See docs/compliance.md.
"""

import json
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from config.staff.answer_reads import collecting
from contacts.access import Kind, record_access
from contacts.erasure_reasons import ErasureReason, is_reference
from contacts.models import (
    LOCAL_FIELDS,
    SYNCED_FIELDS,
    Contact,
    DataSubjectExport,
    DataSubjectRequest,
    ErasureRecord,
)
from contacts.services.erasure import AlreadyErased, erase_on_request, personal_data_quoted
from contacts.services.refresh import request_refresh
from webhooks.bridge import stored_events
from webhooks.events import StoredPayload

Status = DataSubjectRequest.Status
# "Due soon" on the list filter and the dashboard: an open request whose deadline is this close.
DUE_SOON = timedelta(days=3)
EXPORT_FORMAT_VERSION = 1


class TextQuotesPersonalData(ValueError):
    """A refusal reason quotes the person's own name, email or phone."""


def check_request_text(*, contacts, text: str, label: str) -> None:
    """Refuse free text on a request that quotes any concerned contact's name, email or phone
    (``contacts.services.erasure.personal_data_quoted``): the register must not become a copy of the person's
    data. A guess: it guards the refusal reason, which an erasure of the person blanks; the reference, which
    reaches the erasure log, is held to the ticket pattern instead."""
    if not text.strip():
        return
    for contact in contacts:
        if quoted := personal_data_quoted(contact=contact, text=text):
            raise TextQuotesPersonalData(
                f"the {label} quotes the contact's {', '.join(quoted)}: use a ticket number, never personal data"
            )


def default_due_at(received_at: datetime) -> datetime:
    return received_at + timedelta(days=settings.DSR_DEADLINE_DAYS)


def record_status(request: DataSubjectRequest, *, user, previous_status: str | None) -> None:
    """Set what a status change implies, before the request is saved: closing stamps ``closed_at`` and who
    handled it; reopening clears ``closed_at``."""
    if request.due_at is None:
        request.due_at = default_due_at(request.received_at)
    if request.status == Status.OPEN:
        request.closed_at = None
        request.refusal_reason = ""
    elif previous_status != request.status or request.closed_at is None:
        request.closed_at = timezone.now()
    if user is not None and (request.handled_by_id is None or request.status != previous_status):
        request.handled_by = user


def answer_request(request: DataSubjectRequest, *, user) -> bool:
    """Mark an open request answered (who, when). False when it was no longer open."""
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if not request.is_open:
            return False
        _mark_answered(request, user=user)
    return True


def _mark_answered(request: DataSubjectRequest, *, user) -> None:
    previous, request.status = request.status, Status.ANSWERED
    record_status(request, user=user, previous_status=previous)
    request.save()


def answered_by_erasure(request: DataSubjectRequest) -> bool:
    """Whether erasing answers everything the request asked: an erasure request, or access then erasure once
    the person's copy was exported (after the erasure there is nothing left to export)."""
    if request.kind == DataSubjectRequest.Kind.ERASURE:
        return True
    return request.kind == DataSubjectRequest.Kind.ACCESS_AND_ERASURE and request.exports.exists()


# --- Deadlines ---------------------------------------------------------------------------------------


def overdue(queryset: QuerySet, *, now: datetime) -> QuerySet:
    return queryset.filter(status=Status.OPEN, due_at__lt=now)


def due_soon(queryset: QuerySet, *, now: datetime) -> QuerySet:
    return queryset.filter(status=Status.OPEN, due_at__gte=now, due_at__lt=now + DUE_SOON)


def deadline_state(request: DataSubjectRequest, *, now: datetime) -> str:
    """``overdue``, ``due_soon``, ``on_time`` (open) or ``closed``."""
    if not request.is_open:
        return "closed"
    if request.due_at < now:
        return "overdue"
    if request.due_at < now + DUE_SOON:
        return "due_soon"
    return "on_time"


def desk_counts(*, now: datetime) -> dict:
    """The dashboard panel: open, overdue and due-soon requests, and the most urgent of them. Two queries."""
    requests = DataSubjectRequest.objects.all()
    counts = requests.filter(status=Status.OPEN).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_at__lt=now)),
        due_soon=Count("id", filter=Q(due_at__gte=now, due_at__lt=now + DUE_SOON)),
    )
    urgent = list(requests.filter(status=Status.OPEN, due_at__lt=now + DUE_SOON).order_by("due_at", "id")[:10])
    return {**counts, "urgent": urgent, "due_soon_days": DUE_SOON.days}


# --- What we hold about a person ---------------------------------------------------------------------


def subject_export(contact: Contact, *, request: DataSubjectRequest | None = None) -> dict:
    """Everything we hold about this one contact: its current fields, its local notes and every stored
    event payload about it, with dates. Selected by the contact's own ids (provider, account, external id),
    never by matching a name or an email, so a homonym or a colleague in the same account never appears.

    An erased contact's document says so and lists its erasure records; it reconstructs nothing.
    """
    erasures = list(contact.erasures.order_by("sequence"))
    document = {
        "document": "crm-sync data-subject export",
        "version": EXPORT_FORMAT_VERSION,
        "generated_at": timezone.now(),
        "request": _request_summary(request),
        # True: we hold none of the person's data any more; ``erasures`` proves it, nothing is rebuilt.
        "erased": contact.is_erased,
        "contact": {
            "id": contact.pk,
            "provider": contact.provider,
            "account_id": contact.account_id,
            "external_id": contact.external_id,
            "created_at": contact.created_at,
            "updated_at": contact.updated_at,
            "erased_at": contact.erased_at,
        },
        "fields": {name: getattr(contact, name) for name in SYNCED_FIELDS + ("remote_updated_at",)},
        "notes": {name: getattr(contact, name) for name in LOCAL_FIELDS},
        "events": [_event_entry(payload) for payload in _stored_payloads(contact)],
        "erasures": [_erasure_entry(record) for record in erasures],
    }
    return document


def subject_export_json(document: dict) -> str:
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2, sort_keys=False)


def confirmation_summary(contact: Contact) -> dict:
    """The simplified answer of Art. 19 I: whether we process the person's data, which kinds, since when and
    from where; no value itself."""
    events = _stored_payloads(contact, with_payloads=False)
    return {
        "contact": contact,
        "holds_data": not contact.is_erased,  # an erased row holds none (the database's constraint)
        "fields_held": [str(Contact._meta.get_field(name).verbose_name) for name in contact.personal_fields_held()],
        "since": contact.created_at,
        "source": contact.provider,
        "events": len(events),
        "erasures": list(contact.erasures.order_by("sequence")),
    }


def _stored_payloads(contact: Contact, *, with_payloads: bool = True) -> list[StoredPayload]:
    """From ``webhooks`` (``stored_events``), which raises when nothing is registered, rather than export a
    person's data without their stored payloads."""
    return stored_events().subject_payloads(
        provider=contact.provider,
        account_id=contact.account_id,
        external_id=contact.external_id,
        with_payloads=with_payloads,
    )


def _request_summary(request: DataSubjectRequest | None) -> dict | None:
    if request is None:
        return None
    return {"id": request.pk, "kind": request.kind, "received_at": request.received_at, "due_at": request.due_at}


def _event_entry(payload: StoredPayload) -> dict:
    return {
        "id": payload.event_pk,
        "provider": payload.provider,
        "event_type": payload.event_type,
        "event_id": payload.event_id,
        "occurred_at": payload.occurred_at,
        "received_at": payload.received_at,
        "processed_at": payload.processed_at,
        "status": payload.status,
        # A redacted payload holds nothing of the person any more; a purged one is gone.
        "redacted_at": payload.redacted_at,
        "payload_purged_at": payload.payload_purged_at,
        "payload": None if payload.redacted_at else payload.payload,
    }


def _erasure_entry(record: ErasureRecord) -> dict:
    return {
        "sequence": record.sequence,
        "erased_at": record.erased_at,
        "deleted_at": record.deleted_at,
        "requested_by_type": record.requested_by_type,
        "erased_fields": record.erased_fields,
        "redacted_events": record.redacted_events,
        "hash": record.hash,
    }


def record_export(*, request: DataSubjectRequest | None, contact: Contact, user, export_format: str) -> None:
    """Every export lands in the access trail (in a web answer, that answer's own row names the contact); one
    made from a request is recorded on the request too."""
    with transaction.atomic():
        if not collecting():
            record_access(user=user, kind=Kind.DATA_SUBJECT_EXPORT, contact_id=contact.pk, rows=1)
        if request is not None:
            DataSubjectExport.objects.create(
                request=request,
                contact=contact,
                format=export_format,
                exported_by=user if user is not None and user.is_authenticated else None,
            )


class ContactNotInRequest(ValueError):
    """The contact is not one the request concerns."""


def concerned_contact(request: DataSubjectRequest, contact_id: int) -> Contact:
    contact = request.contacts.filter(pk=contact_id).first()
    if contact is None:
        raise ContactNotInRequest(f"contact #{contact_id} is not concerned by request #{request.pk}")
    return contact


# --- Correction: the provider holds the value ----------------------------------------------------------


def correctable_at_provider(request: DataSubjectRequest) -> list[Contact]:
    """The request's living contacts whose provider we can look up again (a fetcher is configured)."""
    return [
        contact
        for contact in request.contacts.filter(erased_at__isnull=True).order_by("pk")
        if contact.provider in settings.CONTACT_FETCHERS
    ]


def look_up_after_correction(request: DataSubjectRequest) -> list[int]:
    """A correction made at the provider: look the request's contacts up now instead of waiting for the
    provider's next webhook. Returns the ids queued."""
    contacts = Contact.objects.filter(pk__in=[contact.pk for contact in correctable_at_provider(request)])
    queued, _skipped = request_refresh(contacts=contacts)
    return queued


# --- Erasure from a request --------------------------------------------------------------------------


def erasure_reference(request: DataSubjectRequest) -> str:
    """What the erasure log keeps as the reference: the request's own ticket id when it fits the pattern, else
    its number (``DSR-<id>``); never other text typed by staff."""
    return request.reference if is_reference(request.reference) else f"DSR-{request.pk}"


def erase_from_request(
    *, request: DataSubjectRequest, user, reason: str = ErasureReason.DATA_SUBJECT_REQUEST
) -> tuple[list[ErasureRecord], list[ErasureRecord]]:
    """Erase every contact the request concerns through the one erasure service (one hash-chained record
    each) and link the records from the request. A contact already erased is not erased again: its last
    record is linked instead. When the erasure answers all the request asked (``answered_by_erasure``), the
    request is marked answered in the same transaction. Returns (new records, records that already existed)."""
    created, existing = [], []
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        for contact in request.contacts.order_by("pk"):
            try:
                record = erase_on_request(
                    contact=contact,
                    requested_by=user.get_username() if user is not None else "",
                    requested_by_type="admin" if user is not None else "cli",
                    reason=reason,
                    reference=erasure_reference(request),
                )
            except AlreadyErased:
                record = contact.erasures.order_by("-sequence").first()
                if record is None:
                    continue
                existing.append(record)
            else:
                created.append(record)
            request.erasures.add(record)
        if request.is_open and answered_by_erasure(request):
            _mark_answered(request, user=user)
    return created, existing


# --- Retention of the register -----------------------------------------------------------------------


def prune_data_subject_requests(*, older_than_days: int, now: datetime | None = None) -> tuple[datetime, int]:
    """Requests closed before the cutoff lose their links to people (contacts, who handled and exported
    them) and their free text; kind, dates, outcome and the linked erasure records stay. Open requests are
    never pruned. Returns the cutoff and how many requests were cleared."""
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    due = DataSubjectRequest.objects.filter(closed_at__lt=cutoff, anonymized_at__isnull=True).exclude(
        status=Status.OPEN
    )
    with transaction.atomic():
        ids = list(due.select_for_update().values_list("pk", flat=True))
        if not ids:
            return cutoff, 0
        DataSubjectRequest.contacts.through.objects.filter(datasubjectrequest_id__in=ids).delete()
        DataSubjectExport.objects.filter(request_id__in=ids).update(contact=None, exported_by=None)
        DataSubjectRequest.objects.filter(pk__in=ids).update(
            reference="", refusal_reason="", handled_by=None, anonymized_at=timezone.now(), updated_at=timezone.now()
        )
    return cutoff, len(ids)
