"""Reads of contacts shared by the admin and the API."""

from django.conf import settings
from django.db.models import Q, QuerySet

from contacts.models import Contact
from contacts.normalize import normalize_phone


def search_contacts(queryset: QuerySet, term: str) -> QuerySet:
    """Name or email containing the term, or a phone matching it however it is typed."""
    term = term.strip()
    if not term:
        return queryset
    condition = Q(name__icontains=term) | Q(email__icontains=term)
    digits = "".join(ch for ch in term if ch.isdigit())
    if len(digits) >= 4:
        condition |= Q(phone__contains=digits)
        phone = normalize_phone(term)
        if phone.startswith("+"):
            condition |= Q(phone=phone)
    return queryset.filter(condition)


def contacts_due_for_refresh(*, now, provider: str | None = None) -> QuerySet:
    """Contacts waiting for a look-up whose provider has a fetcher, not backing off, not given up on."""
    providers = set(settings.CONTACT_FETCHERS)
    if provider is not None:
        providers &= {provider}
    return Contact.objects.filter(
        Q(refresh_due_at__isnull=True) | Q(refresh_due_at__lte=now),
        needs_refresh=True,
        provider__in=providers,
        refresh_attempts__lt=settings.CONTACT_REFRESH_MAX_ATTEMPTS,
    ).order_by("pk")
