"""The access trail: who read or exported contacts' data, recorded with one INSERT per access.

A list (admin page or API page) is one row with how many contacts it showed and the filter used; a bulk
export is one row with its count; a contact's page or API read is one row naming the contact's id.

The filter keeps every parameter's name, but a value only for parameters whose values are fixed choices or
pseudonymous ids (provider, source, erased, status, ...). Everything else, first of all the search box, is
kept as ``"[not kept]"``: a search term is what staff typed to find a person (a name, a phone number), so
it is personal data. Not even a keyed hash of it is kept: the trail deliberately outlives erasures, and a
hash of a phone number is found again by hashing every phone number, which would leave the erased person
findable in the trail. The contact pages opened from that search are recorded by id, which is what
answers "who saw this person".
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

from axes.models import AccessLog
from django.utils import timezone

from contacts.models import ContactAccess

Kind = ContactAccess.Kind
EVENT_EXPORT_KINDS = {"csv": Kind.EVENTS_CSV, "json": Kind.EVENTS_JSON}

NOT_KEPT = "[not kept]"
# Parameters (admin list filters, API filters, paging and ordering) whose values cannot describe a person.
VALUE_KEPT_PARAMETERS = frozenset({
    "provider", "provider__exact", "account_id", "account_id__exact", "external_id", "source", "source__exact",
    "erased", "needs_refresh", "needs_refresh__exact", "status", "status__exact", "status_id", "sub_group_id",
    "sub_group_id__exact", "updated_since", "page_size", "o", "p", "all",
})  # fmt: skip
KEPT_VALUE_LENGTH = 64


def filters_of(parameters: Mapping) -> dict[str, str]:
    """The filter of a list request as the trail keeps it (see the module's docstring)."""
    kept = {}
    for name in sorted(parameters):
        value = parameters.get(name, "")
        kept_value = _storable(str(value)) if name in VALUE_KEPT_PARAMETERS else NOT_KEPT
        kept[_storable(name)] = kept_value
    return kept


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


class ContactAccessTrail:
    """``contacts``'s side of the bridge (``webhooks.bridge.AccessTrail``)."""

    def record_events_export(self, *, user, export_format: str, rows: int) -> None:
        record_access(user=user, kind=EVENT_EXPORT_KINDS[export_format], rows=rows)


def prune_access_trail(*, older_than_days: int) -> tuple[datetime, int, int]:
    """Delete trail rows, and django-axes' login records, older than the retention. Returns the cutoff and how
    many of each went."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    trail, _ = ContactAccess.objects.filter(at__lt=cutoff).delete()
    logins, _ = AccessLog.objects.filter(attempt_time__lt=cutoff).delete()
    return cutoff, trail, logins
