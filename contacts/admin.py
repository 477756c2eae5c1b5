import json

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnlyModelAdmin
from config.csv_export import csv_response
from config.pagination import CappedCountPaginator
from config.timestamps import display_time
from contacts.access import Kind, filters_of, record_access
from contacts.access_admin import RecordsContactAccess
from contacts.models import SYNCED_FIELDS, Contact, ErasureRecord
from contacts.normalize import possible_phone_number
from contacts.requests_admin import contact_choice_label  # also registers the request desk's admin
from contacts.selectors import contact_timeline, distinct_values, erasures_by_fingerprint, search_contacts
from contacts.services import AlreadyErased, check_reason, erase_on_request, request_refresh

# Shown in their readable form on the contact's page instead of raw JSON or raw E.164.
READABLE_FIELDS = {"tags": "tags_display", "custom_fields": "custom_fields_display", "phone": "phone_display"}
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


class ErasedFilter(admin.SimpleListFilter):
    title = _("erased")
    parameter_name = "erased"
    CHOICES = {"yes": {"erased_at__isnull": False}, "no": {"erased_at__isnull": True}}

    def lookups(self, request, model_admin):
        return [("yes", _("Erased")), ("no", _("Not erased"))]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if self.value() not in self.CHOICES:
            # An unknown value would show the whole list as if it were filtered: the admin's "invalid filter" page.
            raise IncorrectLookupParameters(f"erased must be one of {', '.join(self.CHOICES)}")
        return queryset.filter(**self.CHOICES[self.value()])


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """Django's "every value" filter, its values read through the column's index (``distinct_values``)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = distinct_values(field_path)


class ProviderFilter(admin.SimpleListFilter):
    """The configured providers (``WEBHOOK_PROVIDERS``); any other value is refused, not an empty list."""

    title = _("provider")
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return [(name, name) for name in settings.WEBHOOK_PROVIDERS]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if self.value() not in settings.WEBHOOK_PROVIDERS:
            raise IncorrectLookupParameters("unknown provider")
        return queryset.filter(provider=self.value())


# The contacts export: the API's fields (tags and custom fields as JSON), times in UTC ISO-8601.
CONTACT_EXPORT_FIELDS = ("id", "provider", "account_id", "external_id", "name", "phone", "email", "source", "tags",
                         "custom_fields", "assigned_to", "status_id", "status", "sub_group_id", "can_sms",
                         "can_email", "can_call", "remote_created_at", "remote_updated_at", "needs_refresh",
                         "erased_at", "created_at", "updated_at")  # fmt: skip


class FilteredCsvExport:
    """An "Export CSV" link on the list (the list as filtered and searched) and an action for the selected
    rows, both behind the model's own ``export_<model>`` permission: taking data out of the system is a
    separate act from reading it. The file holds ``export_fields``, each through ``export_value``."""

    change_list_template = "admin/crm_export_change_list.html"
    export_fields: tuple[str, ...] = ()
    export_name = "export"
    export_ordering = "pk"
    export_access_kind: Kind

    def has_export_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.export_{self.opts.model_name}")

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [path("export/", self.admin_site.admin_view(self.export_view), name=name), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_export_permission": self.has_export_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def export_view(self, request):
        """The whole list as the changelist shows it (same filters, search and date drill-down)."""
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            changelist_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
            return HttpResponseRedirect(f"{changelist_url}?e=1")
        return self.csv_export(request, changelist.get_queryset(request))

    @admin.action(description=_("Export selected %(verbose_name_plural)s as CSV"), permissions=["export"])
    def export_selected_csv(self, request, queryset):
        return self.csv_export(request, queryset)

    def csv_export(self, request, queryset):
        # Every export is on the access trail: who took how many rows out.
        record_access(user=request.user, kind=self.export_access_kind, rows=queryset.count())
        rows = queryset.order_by(self.export_ordering).iterator(chunk_size=1000)
        return csv_response(
            filename=f"{self.export_name}-{timezone.now():%Y%m%dT%H%M%SZ}.csv",
            header=self.export_fields,
            rows=([self.export_value(obj, name) for name in self.export_fields] for obj in rows),
        )

    def export_value(self, obj, name):
        return getattr(obj, name)


@admin.register(Contact)
class ContactAdmin(RecordsContactAccess, FilteredCsvExport, admin.ModelAdmin):
    # Narrow enough for a 1,366 px screen with both sidebars: the provider key in one column, the
    # sub-group (FPT only) left to its filter.
    list_display = ["display_name", "state_badges", "provider_key", "phone_display", "email", "source", "status",
                    "updated_at"]  # fmt: skip
    list_filter = [ProviderFilter, ("source", IndexedValuesFilter), ErasedFilter, "needs_refresh",
                   ("status", IndexedValuesFilter), ("sub_group_id", IndexedValuesFilter)]  # fmt: skip
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
        "state_badges", "timeline", "erasure_records",
    ]  # fmt: skip
    actions = ["refresh_now", "erase_data_subject", "export_selected_csv"]
    export_fields, export_name, export_access_kind = CONTACT_EXPORT_FIELDS, "contacts", Kind.CONTACTS_CSV
    fieldsets = [
        (None, {"fields": ["state_badges", "provider", "account_id", "external_id", "needs_refresh",
                           "refresh_attempts", "refresh_due_at", "erased_at", "erasure_records"]}),
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
                shown.append((title, {**options, "fields": fields}))
                continue
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

    def autocomplete_shown(self, request, rows):
        # A search offered these contacts' names: one list row in the access trail, the term not kept.
        record_access(user=request.user, kind=Kind.CONTACT_LIST, rows=rows, filters=filters_of(request.GET))

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
        return _provider_key(obj)

    @admin.display(description=_("Phone"), ordering="phone")
    def phone_display(self, obj):
        if not obj.phone:
            return "—"
        readable = readable_phone(obj.phone)
        if readable == obj.phone:
            return obj.phone
        return format_html('<span class="crm-phone" title="{}">{}</span>', obj.phone, readable)

    @admin.display(description=_("Erased"), ordering="erased_at", boolean=True)
    def erased_badge(self, obj):
        return obj.erased_at is not None

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

    @admin.display(description=_("Tags"))
    def tags_display(self, obj):
        if not obj.tags:
            return "—"
        tags = obj.tags if isinstance(obj.tags, list) else [obj.tags]
        items = format_html_join("", '<span class="crm-tag">{}</span>', ((tag,) for tag in tags))
        return format_html('<div class="crm-tags">{}</div>', items)

    @admin.display(description=_("Custom fields"))
    def custom_fields_display(self, obj):
        if not obj.custom_fields:
            return "—"
        if not isinstance(obj.custom_fields, dict):
            return str(obj.custom_fields)
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            ((key, _readable(value)) for key, value in sorted(obj.custom_fields.items())),
        )
        return format_html('<table class="crm-kv"><tbody>{}</tbody></table>', rows)

    @admin.display(description=_("Timeline"))
    def timeline(self, obj):
        entries = contact_timeline(obj)
        if not entries:
            return gettext("No webhook events stored for this contact.")
        received = gettext("received")
        rows = format_html_join(
            "",
            '<tr class="crm-timeline-entry"><td>{}<br><span class="crm-muted">{} {}</span></td>'
            '<td><a href="{}">{}</a></td><td><span class="crm-badge crm-status-{}">{}</span>'
            '<div class="crm-reason">{}</div></td><td>{}</td><td class="crm-fields">{}</td></tr>',
            (
                (
                    display_time(entry.occurred_at),
                    received,
                    display_time(entry.received_at),
                    entry.admin_url,
                    entry.event_type,
                    entry.status,
                    entry.status,
                    entry.status_reason,
                    _actor(entry),
                    _changed(entry),
                )
                for entry in entries
            ),
        )
        return format_html(
            '<table class="crm-timeline" id="contact-timeline"><thead><tr><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("When"),
            gettext("Event"),
            gettext("Status"),
            gettext("Who"),
            gettext("What changed"),
            rows,
        )

    @admin.display(description=_("Erasure records"))
    def erasure_records(self, obj):
        """A tombstone's way to its entries in the erasure log."""
        records = [(reverse("admin:contacts_erasurerecord_change", args=[record.pk]), record.sequence,
                    display_time(record.erased_at)) for record in obj.erasures.order_by("sequence")]  # fmt: skip
        if not records:
            return "—"
        return format_html_join(", ", '<a href="{}" class="crm-erasure-record">#{}</a> ({})', records)

    def export_value(self, obj, name):
        value = getattr(obj, name)
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
        return value

    # --- Erasure (LGPD data-subject request) ---------------------------------------------------------
    def has_erase_permission(self, request):
        return request.user.has_perm("contacts.erase_contact")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The contact page's Erase button posts the list's erase action for this one contact: the same
        # confirmation page, reason and checks as erasing from the list.
        context["can_erase"] = bool(
            obj is not None and self.has_erase_permission(request) and not obj.is_erased
        )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.action(description=_("Erase (data-subject request)"), permissions=["erase"])
    def erase_data_subject(self, request, queryset):
        """Confirmation page with a required reason; on confirm, erase each contact still holding data."""
        contacts = [c for c in queryset.order_by("pk") if not c.is_erased]
        already_erased = queryset.count() - len(contacts)
        form = ErasureRequestForm(request.POST if request.POST.get("post") else None, contacts=contacts)
        if contacts and form.is_valid():
            erased = 0
            for contact in contacts:
                try:
                    erase_on_request(
                        contact=contact,
                        requested_by=request.user.get_username(),
                        requested_by_type="admin",
                        reason=form.cleaned_data["reason"],
                    )
                except AlreadyErased:
                    continue  # erased meanwhile (e.g. by the provider's deletion): already in the log
                erased += 1
                contact.refresh_from_db()
                self.log_change(request, contact, "Erased (data-subject request)")
            self.message_user(
                request,
                ngettext("Erased %(count)d contact; see the erasure log.",
                         "Erased %(count)d contacts; see the erasure log.", erased) % {"count": erased},
                messages.SUCCESS,
            )  # fmt: skip
            return None
        if not contacts:
            self.message_user(
                request, gettext("The selected contacts were already erased: nothing to do."), messages.INFO
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Erase personal data (data-subject request)"),
            "opts": self.model._meta,
            "contacts": contacts,
            "already_erased": already_erased,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/contacts/contact/erase_confirmation.html", context)


def _readable(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if value is None or value == "":
        return "—"
    return str(value)


def _actor(entry) -> str:
    if not (entry.actor_type or entry.actor_id):
        return "—"
    return " ".join(part for part in (entry.actor_type, entry.actor_id) if part)


def _changed(entry):
    if not entry.changed_fields and not entry.drift:
        return "—"
    if entry.values:
        changed = format_html_join(
            "",
            '<div class="crm-change"><code>{}</code> {}</div>',
            ((name, _old_to_new(before, after)) for name, before, after in entry.values),
        )
    else:
        changed = format_html_join(" ", "<code>{}</code>", ((name,) for name in entry.changed_fields))
    if not entry.drift:
        return changed
    drift = format_html_join(" ", "<code>{}</code>", ((name,) for name in entry.drift))
    return format_html('{} <span class="crm-muted">{}: {}</span>', changed, gettext("drift"), drift)


# Bookkeeping fields of the contact's page shown only when they hold something.
WHEN_SET = {
    "refresh_attempts": lambda contact: contact.refresh_attempts > 0,
    "refresh_due_at": lambda contact: contact.refresh_due_at is not None,
    "erased_at": lambda contact: contact.erased_at is not None,
    "erasure_records": lambda contact: contact.erasures.exists(),
}


def _provider_key(obj):
    """A contact's (or record's) provider key in one narrow cell: provider · account, then the contact id."""
    return format_html(
        '<span class="crm-key">{} · {}<br><span class="crm-muted">{}</span></span>',
        obj.provider,
        obj.account_id,
        obj.external_id,
    )


def _source_field(name: str) -> str:
    """The model field behind a field shown on the page (``tags_display`` → ``tags``)."""
    return next((field for field, shown in READABLE_FIELDS.items() if shown == name), name)


def _has_value(obj, name: str) -> bool:
    return getattr(obj, name) not in (None, "", [], {})


def readable_phone(e164: str) -> str:
    """A phone as people write it: national format for numbers of ``PHONE_DEFAULT_REGION`` ("(47) 99123-4567"),
    international for others; as stored when it is not a readable number."""
    number = possible_phone_number(e164)
    if number is None:
        return e164
    same_region = phonenumbers.region_code_for_number(number) == settings.PHONE_DEFAULT_REGION
    style = phonenumbers.PhoneNumberFormat.NATIONAL if same_region else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def _old_to_new(before, after):
    if before is None:
        return format_html('<span class="crm-new">{}</span>', after)
    return format_html('<span class="crm-old">{}</span> → <span class="crm-new">{}</span>', before, after)


class ErasureRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text=_(
            "Why (e.g. the request's ticket number). Kept forever in the erasure log: never the "
            "person's name, email or phone."
        ),
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.contacts = contacts

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        for contact in self.contacts:
            try:
                check_reason(contact=contact, reason=reason)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return reason


# Columns of the erasure log's CSV export: every field the hash covers, so the chain can be re-verified from
# the file. To do so, undo what makes the file safe to open: strip the leading ' that guards cells starting
# with = + - @ against spreadsheet formulas, re-read times as UTC datetimes and split erased_fields back into
# a list, then rebuild ErasureRecord.canonical_json().
EXPORT_FIELDS = ("sequence", "provider", "account_id", "external_id", "contact_id", "event_id", "requested_by",
                 "requested_by_type", "deleted_at", "erased_at", "reason", "erased_fields", "redacted_events",
                 "email_fingerprint", "phone_fingerprint", "prev_hash", "hash")  # fmt: skip


@admin.register(ErasureRecord)
class ErasureRecordAdmin(FilteredCsvExport, ReadOnlyModelAdmin):
    """The erasure log: read-only for everyone, superusers included; CSV export needs its own permission
    (``contacts.export_erasurerecord``). "Was this person erased?" is answered by the lookup page."""

    list_display = ["sequence", "provider_key", "requester", "deleted_at", "erased_at", "reason", "short_hash"]
    list_filter = ["provider", "requested_by_type", ("erased_at", admin.DateFieldListFilter),
                   ("deleted_at", admin.DateFieldListFilter)]  # fmt: skip
    # The reason holds the request's ticket number: staff search by it.
    search_fields = ["=external_id", "=account_id", "=event_id", "reason"]
    date_hierarchy = "erased_at"
    actions = ["export_selected_csv"]
    export_fields, export_name, export_ordering = EXPORT_FIELDS, "erasure-log", "sequence"
    export_access_kind = Kind.ERASURES_CSV
    list_per_page = 100
    show_full_result_count = False
    change_list_template = "admin/contacts/erasurerecord/change_list.html"  # adds the lookup link

    @admin.display(description=_("Provider / account / id"), ordering="provider")
    def provider_key(self, obj):
        return _provider_key(obj)

    @admin.display(description=_("Requested by"), ordering="requested_by_type")
    def requester(self, obj):
        return format_html('{}<br><span class="crm-muted">{}</span>', obj.requested_by_type, obj.requested_by or "—")

    @admin.display(description=_("Hash"))
    def short_hash(self, obj):
        return format_html("<code>{}…</code>", obj.hash[:12])

    def get_urls(self):
        lookup = path("lookup/", self.admin_site.admin_view(self.lookup_view), name="contacts_erasurerecord_lookup")
        return [lookup, *super().get_urls()]

    def lookup_view(self, request):
        """Answers "Was this person erased?": their email or phone, never stored, against the records' keyed
        fingerprints. Sent by POST so that neither lands in a URL or an access log."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ErasureLookupForm(request.POST or None)
        records, key_missing = None, not settings.ERASURE_FINGERPRINT_KEY
        if request.method == "POST" and form.is_valid() and not key_missing:
            records = list(erasures_by_fingerprint(**form.cleaned_data))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Was this person erased?"),
            "opts": self.opts,
            "form": form,
            "records": records,
            "key_missing": key_missing,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/contacts/erasurerecord/lookup.html", context)

    def export_value(self, obj, name):
        value = getattr(obj, name)
        return ",".join(value) if isinstance(value, list) else value


class ErasureLookupForm(forms.Form):
    email = forms.CharField(label=_("Email"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=64,
                            help_text=_("However it is written: +55 47 99123-4567, (47) 99123-4567, …"))  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        cleaned["email"], cleaned["phone"] = cleaned.get("email", "").strip(), cleaned.get("phone", "").strip()
        if not (cleaned["email"] or cleaned["phone"]):
            raise forms.ValidationError(gettext("Give an email or a phone number."))
        return cleaned
