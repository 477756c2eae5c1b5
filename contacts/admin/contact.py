"""The contact in the admin: the list (filters, search, export), the contact's page (the provider's fields
by group, our notes, the webhook timeline, its erasure records), look-ups and erasure on request."""

import json

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from config.values.timestamps import display_time
from config.web.pagination import CappedCountPaginator
from contacts.access import Kind
from contacts.admin.display import (
    custom_fields_html,
    phone_for_spreadsheet,
    phone_html,
    provider_key,
    tags_html,
    timeline_html,
)
from contacts.admin.erase import ErasesOnRequest
from contacts.admin.exports import FilteredCsvExport
from contacts.admin.filters import (
    CreatedFilter,
    ErasedFilter,
    IndexedValuesFilter,
    LabelledIndexedValuesFilter,
    OwnerFilter,
    ProviderFilter,
    TagFilter,
    UpdatedFilter,
)
from contacts.admin.requests import contact_choice_label
from contacts.labels import value_label
from contacts.models import SYNCED_FIELDS, Contact
from contacts.selectors import contact_timeline, search_contacts
from contacts.services import request_refresh

# Shown in their readable form on the contact's page instead of raw JSON or raw E.164.
READABLE_FIELDS = {"tags": "tags_display", "custom_fields": "custom_fields_display", "phone": "phone_display",
                   "source": "source_display", "status": "status_display"}  # fmt: skip
# The provider's fields on the contact's page, by what staff look for; a field with no value is left out.
PROVIDER_FIELD_GROUPS = [
    (_("Who"), ["name", "phone", "email", "avatar_url"]),
    (_("At the provider"), ["source", "status", "status_id", "sub_group_id", "assigned_to", "tags", "custom_fields"]),
    (_("May we contact them"), ["can_sms", "can_email", "can_call"]),
    (_("Activity"), ["last_sms_in_at", "last_sms_out_at", "last_call_at", "remote_created_at", "remote_updated_at"]),
]
assert sorted(name for _title, names in PROVIDER_FIELD_GROUPS for name in names) == sorted(
    (*SYNCED_FIELDS, "remote_updated_at")
), "every provider field belongs to one group"


# The contacts export: the API's fields (tags and custom fields as JSON), times in UTC ISO-8601.
CONTACT_EXPORT_FIELDS = ("id", "provider", "account_id", "external_id", "name", "phone", "email", "source", "tags",
                         "custom_fields", "assigned_to", "status_id", "status", "sub_group_id", "can_sms",
                         "can_email", "can_call", "remote_created_at", "remote_updated_at", "needs_refresh",
                         "erased_at", "created_at", "updated_at")  # fmt: skip


@admin.register(Contact)
class ContactAdmin(ErasesOnRequest, FilteredCsvExport, admin.ModelAdmin):
    # Narrow enough for a 1,366 px screen with both sidebars: the provider key in one column, the
    # sub-group (FPT only) left to its filter.
    list_display = ["display_name", "state_badges", "provider_key", "phone_display", "email", "source_display",
                    "status_display", "updated_at"]  # fmt: skip
    list_filter = [ProviderFilter, ("source", LabelledIndexedValuesFilter), ("status", LabelledIndexedValuesFilter),
                   TagFilter, OwnerFilter, CreatedFilter, UpdatedFilter, ErasedFilter, "needs_refresh",
                   ("sub_group_id", IndexedValuesFilter)]  # fmt: skip
    # Only to show the search box: get_search_results searches the folded search_text (contacts.search).
    search_fields = ["search_text"]
    list_per_page = 100
    show_full_result_count = False
    paginator = CappedCountPaginator  # a broad search at 1,000,000 contacts: "more than 10,000", not COUNT(*)
    # No foreign keys to join today; stated so a future one does not bring N+1 queries to 100k rows.
    list_select_related = False
    readonly_fields = [
        "provider", "account_id", "external_id", *SYNCED_FIELDS, *READABLE_FIELDS.values(), "remote_updated_at",
        "needs_refresh", "refresh_attempts", "refresh_due_at", "erased_at", "created_at", "updated_at",
        "state_badges", "timeline", "erasure_records", "access_trail",
    ]  # fmt: skip
    actions = ["refresh_now", "erase_data_subject", "export_selected_csv"]
    export_fields, export_name, export_access_kind = CONTACT_EXPORT_FIELDS, "contacts", Kind.CONTACTS_CSV
    fieldsets = [
        (None, {"fields": ["state_badges", "provider", "account_id", "external_id", "needs_refresh",
                           "refresh_attempts", "refresh_due_at", "erased_at", "erasure_records", "access_trail"]}),
        *[
            (title, {"fields": [READABLE_FIELDS.get(name, name) for name in names], "classes": ["crm-provider-fields"]})
            for title, names in PROVIDER_FIELD_GROUPS
        ],
        (_("Ours (never touched by sync)"), {
            "fields": ["notes"], "classes": ["crm-local-fields"], "description": _("Local enrichment, edit freely."),
        }),
        (_("Webhook events"), {"fields": ["timeline"], "description": _("Newest first: what each event changed.")}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False  # contacts come from the providers

    def has_delete_permission(self, request, obj=None):
        return False  # removing a person is an erasure, which leaves a record

    def has_change_permission(self, request, obj=None):
        # A tombstone is read-only: its page shows no editable field and no save (a POST is refused).
        if obj is not None and obj.is_erased:
            return False
        return super().has_change_permission(request, obj)

    def get_urls(self):
        by_key = path("by-key/", self.admin_site.admin_view(self.by_key_view), name="contacts_contact_by_key")
        return [by_key, *super().get_urls()]

    def by_key_view(self, request):
        """The contact's page from its provider key (``?provider=&account_id=&external_id=``): how other apps'
        pages (the webhook event list) link to a contact without knowing the contact table."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        key = {name: request.GET.get(name, "") for name in ("provider", "account_id", "external_id")}
        contact = Contact.objects.filter(**key).only("pk").first() if all(key.values()) else None
        if contact is None:
            self.message_user(request, gettext("No contact has these provider ids (yet)."), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:contacts_contact_changelist"))
        return HttpResponseRedirect(reverse("admin:contacts_contact_change", args=[contact.pk]))

    def get_fieldsets(self, request, obj=None):
        """The provider's groups without their empty fields (and an empty group not at all): a contact known
        by its ids only is not a wall of "-". The first group says who owns these fields."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        shown, explained = [], False
        for title, options in fieldsets:
            if title is None:  # the record's state: its bookkeeping fields only when they say something
                fields = [name for name in options["fields"] if name not in WHEN_SET or WHEN_SET[name](obj)]
                if not request.user.has_perm("contacts.view_contactaccess"):
                    fields.remove("access_trail")
                if obj.is_erased:
                    options = {**options, "description": TOMBSTONE_DESCRIPTION}
                shown.append((title, {**options, "fields": fields}))
                continue
            if obj.is_erased and "crm-local-fields" in options.get("classes", ()):
                continue  # a tombstone has no notes to edit: they went with the rest
            if "crm-provider-fields" not in options.get("classes", ()):
                shown.append((title, options))
                continue
            fields = [name for name in options["fields"] if _has_value(obj, _source_field(name))]
            if not fields:
                continue
            options = {**options, "fields": fields}
            if not explained:
                options["description"] = _(
                    "From the provider, read-only: set only by its webhooks (an edit here would be overwritten). "
                    "Fields it has not sent are not shown."
                )
                explained = True
            shown.append((title, options))
        return shown

    def get_search_results(self, request, queryset, search_term):
        return search_contacts(queryset, search_term), False

    # The request desk finds contacts with this admin's search (``autocomplete_fields``).
    def autocomplete_label(self, obj):
        return contact_choice_label(obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not settings.CONTACT_FETCHERS:
            actions.pop("refresh_now", None)  # nothing could look them up
        return actions

    @admin.action(description=_("Refresh now (look up the current state)"), permissions=["change"])
    def refresh_now(self, request, queryset):
        queued, skipped = request_refresh(contacts=queryset)
        self.message_user(
            request,
            ngettext("%(count)d contact queued for a look-up.", "%(count)d contacts queued for a look-up.",
                     len(queued)) % {"count": len(queued)},
            messages.SUCCESS,
        )  # fmt: skip
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d skipped: no fetcher for its provider, or erased and not reactivated.",
                    "%(count)d skipped: no fetcher for their provider, or erased and not reactivated.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.display(description=_("Name"), ordering="name")
    def display_name(self, obj):
        if obj.erased_at or obj.name:
            return str(obj)
        return format_html('<span class="crm-unnamed">{}</span>', str(obj))  # its ids only: not styled as a name

    @admin.display(description=_("Provider / account / id"), ordering="provider")
    def provider_key(self, obj):
        return provider_key(obj)

    @admin.display(description=_("Phone"), ordering="phone")
    def phone_display(self, obj):
        return phone_html(obj.phone)

    @admin.display(description=_("State"))
    def state_badges(self, obj):
        badges = []
        if obj.erased_at:
            badges.append(format_html('<span class="crm-badge crm-badge-erased" title="{}">{}</span>',
                                      gettext("Erased %(when)s") % {"when": display_time(obj.erased_at)},
                                      gettext("erased")))  # fmt: skip
        if obj.needs_refresh:
            badges.append(
                format_html(
                    '<span class="crm-badge crm-badge-refresh" title="{}">{}</span>',
                    gettext("Known only in part"),
                    gettext("needs refresh"),
                )
            )
        return format_html_join(" ", "{}", ((badge,) for badge in badges)) if badges else "—"

    @admin.display(description=_("source"), ordering="source")
    def source_display(self, obj):
        return value_label(obj.source) or "—"

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        return value_label(obj.status) or "—"

    @admin.display(description=_("Tags"))
    def tags_display(self, obj):
        return tags_html(obj.tags)

    @admin.display(description=_("Custom fields"))
    def custom_fields_display(self, obj):
        return custom_fields_html(obj.custom_fields)

    @admin.display(description=_("Timeline"))
    def timeline(self, obj):
        return timeline_html(contact_timeline(obj))

    @admin.display(description=_("Erasure records"))
    def erasure_records(self, obj):
        """A tombstone's way to its entries in the erasure log."""
        records = [(reverse("admin:contacts_erasurerecord_change", args=[record.pk]), record.sequence,
                    display_time(record.erased_at)) for record in obj.erasures.order_by("sequence")]  # fmt: skip
        if not records:
            return "—"
        return format_html_join(", ", '<a href="{}" class="crm-erasure-record">#{}</a> ({})', records)

    @admin.display(description=_("Access trail"))
    def access_trail(self, obj):
        """Compliance's one click to who saw this contact, when, and through which page."""
        url = reverse("admin:contacts_contactaccess_changelist") + f"?contact={obj.pk}"
        return format_html('<a href="{}" class="crm-access-trail">{}</a>', url, gettext("Who saw this contact"))

    def export_value(self, obj, name):
        value = getattr(obj, name)
        if name == "phone":
            return phone_for_spreadsheet(value)
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
        return value


TOMBSTONE_DESCRIPTION = _(
    "This contact was erased: only its provider ids and the record of the erasure are kept. Nothing on this "
    "page can be changed."
)
# Bookkeeping fields of the contact's page shown only when they hold something.
WHEN_SET = {
    "refresh_attempts": lambda contact: contact.refresh_attempts > 0,
    "refresh_due_at": lambda contact: contact.refresh_due_at is not None,
    "erased_at": lambda contact: contact.erased_at is not None,
    "erasure_records": lambda contact: contact.erasures.exists(),
}


def _source_field(name: str) -> str:
    """The model field behind a field shown on the page (``tags_display`` → ``tags``)."""
    return next((field for field, shown in READABLE_FIELDS.items() if shown == name), name)


def _has_value(obj, name: str) -> bool:
    return getattr(obj, name) not in (None, "", [], {})
