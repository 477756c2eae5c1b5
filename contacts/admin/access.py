"""The access trail in the admin, where Compliance reads it: read-only, by contact, staff user and kind. (What
records it is ``contacts.access``, for every page at once.)"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnlyModelAdmin
from contacts.models import ContactAccess


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
    list_display = ["at", "user", "kind", "via", "contact_accesses", "rows", "filters"]
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

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        if not term:
            return queryset, False
        return (queryset.filter(contact_id=int(term)) if term.isdigit() else queryset.none()), False
