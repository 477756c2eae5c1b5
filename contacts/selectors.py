"""Reads of contacts shared by the admin and the API."""

from django.db.models import Q, QuerySet

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
