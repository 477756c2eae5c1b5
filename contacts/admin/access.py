"""The access trail in the admin, where Compliance reads it: read-only, by contact, staff user and kind. (What
records it is ``contacts.access``, for every page at once.)"""

from django.contrib import admin
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnlyModelAdmin
from contacts.access import DAY_PARAMETERS, NOT_KEPT, kept_day
from contacts.models import ContactAccess

# The contact list's own parameters (not the API's field names), as its filters call them.
PARAMETER_LABELS = {
    "tag": _("tag"),
    "assigned_to": _("owner"),
    "created_at_from": _("first stored from"),
    "created_at_to": _("first stored to"),
    "updated_at_from": _("last changed from"),
    "updated_at_to": _("last changed to"),
}


def readable_filter_value(name: str, value: str) -> str:
    """A kept value as the reader reads it: a day in their format, ``[not kept]`` in their language."""
    if value == NOT_KEPT:
        return gettext("[not kept]")
    if name in DAY_PARAMETERS and (day := kept_day(value)):
        return date_format(day, "SHORT_DATE_FORMAT")
    return value


class ContactIdFilter(admin.SimpleListFilter):
    """``?contact=<id>``: every access to one contact (linked from each row; the search box takes an id too)."""

    title = _("contact")
    parameter_name = "contact"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, f"#{value}")] if value and value.isdigit() else []

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(contact_id=int(value)) if value.isdigit() else queryset.none()


@admin.register(ContactAccess)
class ContactAccessAdmin(ReadOnlyModelAdmin):
    list_display = ["at", "user", "kind", "via", "contact_accesses", "rows", "filters_display"]
    list_filter = ["kind", ContactIdFilter, "user"]
    list_select_related = ["user"]
    search_fields = ["contact_id"]
    search_help_text = _("A contact's id (as in the API and the contact page's address).")
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False
    actions = None

    @admin.display(description=_("Contact"), ordering="contact_id")
    def contact_accesses(self, obj):
        if obj.contact_id is None:
            return "—"
        url = reverse("admin:contacts_contactaccess_changelist") + f"?contact={obj.contact_id}"
        return format_html('<a href="{}" title="{}">#{}</a>', url, _("Every access to this contact"), obj.contact_id)

    @admin.display(description=_("filters"))
    def filters_display(self, obj):
        """The kept filter as ``name: value`` pairs in the reader's language (the list's own parameters by their
        filters' names, days in the reader's format, a value not kept said so)."""
        if not obj.filters:
            return "—"
        pairs = sorted(obj.filters.items())
        return ", ".join(
            f"{PARAMETER_LABELS.get(name, name)}: {readable_filter_value(name, value)}" for name, value in pairs
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        if not term:
            return queryset, False
        return (queryset.filter(contact_id=int(term)) if term.isdigit() else queryset.none()), False
