"""The admin home's contact panels: contacts by provider and source, this month's erasures with the erasure
log's last verification, and the request desk. The admin site shows them (``ContactsConfig.ready`` adds them
to the site's panels), each only to staff allowed to see its model."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from config.values.timestamps import month_in_a_sentence
from contacts.requests import desk_counts
from contacts.selectors import contact_counts_by_provider_and_source, erasures_since, last_erasure_log_verification
from contacts.services.propagation import overdue_erasures


def contacts_panel(user, *, now: datetime) -> list | None:
    if not user.has_perm("contacts.view_contact"):
        return None
    return contact_counts_by_provider_and_source()


def erasures_panel(user, *, now: datetime) -> dict | None:
    if not user.has_perm("contacts.view_erasurerecord"):
        return None
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    overdue_count, overdue = overdue_erasures(limit=10)
    return {
        "this_month": erasures_since(month_start),
        "month": month_start,
        "month_label": month_in_a_sentence(month_start),
        "last_verification": last_erasure_log_verification(),
        # Erasures some downstream system has not been told of (or has not confirmed) in time.
        "overdue_count": overdue_count,
        "overdue": overdue,
        "propagation_hours": f"{settings.ERASURE_PROPAGATION_HOURS:g}",
    }


def requests_panel(user, *, now: datetime) -> dict | None:
    if not user.has_perm("contacts.view_datasubjectrequest"):
        return None
    return desk_counts(now=now)
