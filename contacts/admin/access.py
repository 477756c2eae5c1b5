"""The access trail in the admin: what records it (``RecordsContactAccess``, for the contact admin) and where
Compliance reads it (``ContactAccessAdmin``: read-only, by contact and by staff user)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnlyModelAdmin
from contacts.access import NOT_KEPT, Kind, filters_of, record_access
from contacts.models import ContactAccess


class RecordsContactAccess:
    """Every contact page opened (GET), its history (whose entries name the contact), and every list page
    shown adds one row to the access trail."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        contact = _shown(response, "original")
        if request.method == "GET" and contact is not None:
            record_access(user=request.user, kind=Kind.CONTACT_PAGE, contact_id=contact.pk)
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        contact = _shown(response, "object")
        if contact is not None:
            record_access(user=request.user, kind=Kind.CONTACT_HISTORY, contact_id=contact.pk)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = _shown(response, "cl")
        if request.method == "GET" and changelist is not None:
            # len() runs the page's query now; the template then iterates the same, already fetched, rows.
            shown = len(changelist.result_list)
            record_access(user=request.user, kind=Kind.CONTACT_LIST, rows=shown, filters=filters_of(request.GET))
        return response


def _shown(response, name):
    """What a rendered admin page is about to show (None for a redirect, an error or a download)."""
    if response.status_code != 200:
        return None
    return (getattr(response, "context_data", None) or {}).get(name)


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
    list_display = ["at", "user", "kind", "contact_accesses", "rows", "filters_display"]
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
        """The kept filter as ``name: value`` pairs, a value not kept said in the reader's language."""
        if not obj.filters:
            return "—"
        not_kept = gettext("[not kept]")
        pairs = sorted(obj.filters.items())
        return ", ".join(f"{name}: {not_kept if value == NOT_KEPT else value}" for name, value in pairs)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        if not term:
            return queryset, False
        return (queryset.filter(contact_id=int(term)) if term.isdigit() else queryset.none()), False
