"""The access trail: who read or exported contacts' data, one row per contact an answer showed.

What an answer showed is collected where contacts are read, not view by view: ``Contact.from_db`` notes
every contact read with its personal data, a webhook event read with its payload notes its subject (through
``webhooks.bridge.AccessTrail``), an admin history entry notes the contact it names; ``config.answer_reads``
hands the answer's notes to ``record_answer``, which writes one row per contact in one INSERT. So a new page,
action or endpoint is on the trail without a line of its own, whatever its method or outcome; only a
redirect, which shows nothing, is not. Commands (``dsr_export``) and the export summaries call
``record_access`` themselves.

The filter keeps every parameter's name, but a value only for parameters whose values are fixed choices,
pseudonymous ids or a list's labels (provider, source, erased, status, tag, owner, ...) and for the date
ranges' days when they are days. Everything else, first of all the search box, is
kept as ``"[not kept]"``: a search term is what staff typed to find a person (a name, a phone number), so
it is personal data. Not even a keyed hash of it is kept: the trail deliberately outlives erasures, and a
hash of a phone number is found again by hashing every phone number, which would leave the erased person
findable in the trail. The contact pages opened from that search are recorded by id, which is what
answers "who saw this person".
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_

from axes.models import AccessLog
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from config.answer_reads import collecting, note_read
from contacts.models import Contact, ContactAccess
from contacts.models.contact import CONTACT_READ

Kind = ContactAccess.Kind
EVENT_EXPORT_KINDS = {"csv": Kind.EVENTS_CSV, "json": Kind.EVENTS_JSON}
# The kind of read noted for a webhook payload: its subject's (provider, account id, contact id).
SUBJECT_READ = "subject"
# The kind of read noted for an admin history entry about a contact (its text names the contact): its id.
LOGGED_READ = "logged_contact"

# What each page or endpoint is, by its URL name (with the admin action a POST asked for, if any). Only
# names: whatever a page shows, it is recorded; a page not named here is "Other admin page" or "Other API
# read", with its URL name in ``via``.
KIND_OF_PAGE = {
    "admin:contacts_contact_changelist": Kind.CONTACT_LIST,
    "admin:contacts_contact_changelist/export_selected_csv": Kind.CONTACTS_CSV,
    "admin:contacts_contact_changelist/erase_data_subject": Kind.CONTACT_ACTION,
    "admin:contacts_contact_changelist/refresh_now": Kind.CONTACT_ACTION,
    "admin:contacts_contact_export": Kind.CONTACTS_CSV,
    "admin:contacts_contact_change": Kind.CONTACT_PAGE,
    "admin:contacts_contact_history": Kind.CONTACT_HISTORY,
    "admin:autocomplete": Kind.CONTACT_SEARCH,
    "admin:contacts_datasubjectrequest_change": Kind.REQUEST_DESK,
    "admin:contacts_datasubjectrequest_erase": Kind.REQUEST_DESK,
    "admin:contacts_datasubjectrequest_export": Kind.DATA_SUBJECT_EXPORT,
    "admin:webhooks_webhookevent_change": Kind.EVENT_PAGE,
    "admin:webhooks_webhookevent_changelist/export_csv": Kind.EVENTS_CSV,
    "admin:webhooks_webhookevent_changelist/export_json": Kind.EVENTS_JSON,
    "contact-detail": Kind.API_CONTACT,
    "contact-list": Kind.API_CONTACT_LIST,
    "webhookevent-detail": Kind.API_EVENT,
    "webhookevent-list": Kind.API_EVENT_LIST,
}

NOT_KEPT = "[not kept]"
# Parameters (admin list filters, API filters, paging and ordering) whose values cannot describe a person.
VALUE_KEPT_PARAMETERS = frozenset({
    "provider", "provider__exact", "account_id", "account_id__exact", "external_id", "source", "source__exact",
    "erased", "needs_refresh", "needs_refresh__exact", "status", "status__exact", "status_id", "sub_group_id",
    "sub_group_id__exact", "updated_since", "page_size", "o", "p", "all", "tag", "assigned_to",
})  # fmt: skip
# The list's date ranges: kept when the value is a day (2026-12-31, as the date inputs send it); anything
# else typed into the address could be anything, and is not kept.
DAY_PARAMETERS = frozenset({"created_at_from", "created_at_to", "updated_at_from", "updated_at_to"})
KEPT_VALUE_LENGTH = 64


def filters_of(parameters: Mapping) -> dict[str, str]:
    """The filter of a list request as the trail keeps it (see the module's docstring)."""
    kept = {}
    for name in sorted(parameters):
        value = parameters.get(name, "")
        if name in VALUE_KEPT_PARAMETERS:
            kept_value = _storable(str(value))
        elif name in DAY_PARAMETERS:
            kept_value = str(value).strip() if kept_day(value) else NOT_KEPT
        else:
            kept_value = NOT_KEPT
        kept[_storable(name)] = kept_value
    return kept


def kept_day(value) -> date | None:
    """The day a date range's value names (as the browser sends it), or None."""
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _storable(text: str) -> str:
    # A filter the list ignored can still hold a NUL, which PostgreSQL's jsonb refuses (the page would fail).
    return text.replace("\x00", "")[:KEPT_VALUE_LENGTH]


def record_access(*, user, kind: Kind, contact_id: int | None = None, rows: int | None = None, filters=None) -> None:
    """One trail row (a single INSERT: ids only, nothing is read first). ``user`` None: a management command."""
    ContactAccess.objects.create(
        user_id=user.pk if user is not None and user.is_authenticated else None,
        kind=kind,
        contact_id=contact_id,
        rows=rows,
        filters=filters or {},
    )


def note_payload_read(*, provider: str, account_id: str, external_id: str, row=None) -> None:
    """A stored payload about this subject is being read for the answer under way (``webhooks`` tells,
    through the bridge; ``row`` is what it read): the answer names the subject's contact."""
    note_read(SUBJECT_READ, (provider, account_id, external_id), row=row)


def note_history_entry_read(entry) -> None:
    """An admin history entry (``LogEntry``) was read for the answer under way; one about a contact names it
    (its text is the contact's name)."""
    if not collecting() or not {"content_type_id", "object_id", "object_repr"}.isdisjoint(entry.get_deferred_fields()):
        return  # read without its text (the erasure's scrub reads ids only): it shows no name
    if entry.content_type_id == _contact_type_id() and str(entry.object_id).isdigit():
        note_read(LOGGED_READ, int(entry.object_id))


def _contact_type_id() -> int:
    return ContentType.objects.get_for_model(Contact).pk  # cached by Django after the first call


def record_answer(request, response, reads: dict) -> None:
    """``config.answer_reads``'s handler: the contacts an answer showed, one row each, in one INSERT."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or 300 <= response.status_code < 400:
        return  # nobody to name (a webhook delivery applying a contact), or a redirect: nothing shown
    contact_ids = dict.fromkeys(reads.get(CONTACT_READ, ()))
    contact_ids.update(dict.fromkeys(_contacts_of(reads.get(SUBJECT_READ, ()), reads.get(LOGGED_READ, ()))))
    if not contact_ids:
        return
    via = page_of(request)
    kind = KIND_OF_PAGE.get(via) or (Kind.ADMIN_PAGE if via.startswith("admin:") else Kind.API_READ)
    filters, rows = filters_of(request.GET), len(contact_ids)
    ContactAccess.objects.bulk_create([
        ContactAccess(user_id=user.pk, kind=kind, via=via, contact_id=contact_id, rows=rows, filters=filters)
        for contact_id in contact_ids
    ])  # fmt: skip


def page_of(request) -> str:
    """The page's URL name, with the admin action asked for when this page knows it (``KIND_OF_PAGE``): an
    action's name comes from the form, so any other is left out rather than stored."""
    match = getattr(request, "resolver_match", None)
    name = (match.view_name if match is not None else "")[:100]
    action = request.POST.get("action", "") if request.method == "POST" else ""
    with_action = f"{name}/{action}"
    return with_action if action and with_action in KIND_OF_PAGE else name


def _contacts_of(subjects: Iterable[tuple[str, str, str]], logged: Iterable[int]) -> list[int]:
    """The ids of the (not erased) contacts these payload subjects and history entries name: one query."""
    conditions = [Q(provider=p, account_id=a, external_id=e) for p, a, e in subjects]
    if logged := list(logged):
        conditions.append(Q(pk__in=logged))
    if not conditions:
        return []
    condition = reduce(or_, conditions)
    return list(Contact.objects.filter(condition, erased_at__isnull=True).values_list("pk", flat=True))


class ContactAccessTrail:
    """``contacts``'s side of the bridge (``webhooks.bridge.AccessTrail``)."""

    def record_events_export(self, *, user, export_format: str, rows: int) -> None:
        record_access(user=user, kind=EVENT_EXPORT_KINDS[export_format], rows=rows)

    def note_payload_read(self, *, provider: str, account_id: str, external_id: str, row) -> None:
        note_payload_read(provider=provider, account_id=account_id, external_id=external_id, row=row)


def prune_access_trail(*, older_than_days: int) -> tuple[datetime, int, int]:
    """Delete trail rows, and django-axes' login records, older than the retention. Returns the cutoff and how
    many of each went."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    trail, _ = ContactAccess.objects.filter(at__lt=cutoff).delete()
    logins, _ = AccessLog.objects.filter(attempt_time__lt=cutoff).delete()
    return cutoff, trail, logins
