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
from django.utils.safestring import mark_safe

from config.admin import ReadOnlyModelAdmin
from config.csv_export import csv_response
from contacts.access import Kind, filters_of, record_access
from contacts.access_admin import RecordsContactAccess
from contacts.models import SYNCED_FIELDS, Contact, ErasureRecord
from contacts.requests_admin import contact_choice_label  # also registers the request desk's admin
from contacts.selectors import contact_timeline, search_contacts
from contacts.services import AlreadyErased, check_reason, erase_on_request, has_personal_data, request_refresh

# Shown in their readable form on the contact's page instead of raw JSON.
READABLE_FIELDS = {"tags": "tags_display", "custom_fields": "custom_fields_display"}
PROVIDER_FIELDS_SHOWN = [READABLE_FIELDS.get(name, name) for name in SYNCED_FIELDS]


class ErasedFilter(admin.SimpleListFilter):
    title = "erased"
    parameter_name = "erased"

    def lookups(self, request, model_admin):
        return [("yes", "Erased"), ("no", "Not erased")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(erased_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(erased_at__isnull=True)
        return queryset


@admin.register(Contact)
class ContactAdmin(RecordsContactAccess, admin.ModelAdmin):
    list_display = ["display_name", "state_badges", "provider", "account_id", "external_id", "phone", "email",
                    "source", "status", "sub_group_id", "updated_at"]  # fmt: skip
    list_filter = ["provider", "source", ErasedFilter, "needs_refresh", "status", "sub_group_id"]
    search_fields = ["name", "email", "phone", "=external_id"]
    list_per_page = 100
    show_full_result_count = False
    # No foreign keys to join today; stated so a future one does not bring N+1 queries to 100k rows.
    list_select_related = False
    readonly_fields = [
        "provider", "account_id", "external_id", *SYNCED_FIELDS, *READABLE_FIELDS.values(), "remote_updated_at",
        "needs_refresh", "refresh_attempts", "refresh_due_at", "erased_at", "created_at", "updated_at",
        "state_badges", "timeline",
    ]  # fmt: skip
    actions = ["refresh_now", "erase_data_subject"]
    fieldsets = [
        (None, {"fields": ["state_badges", "provider", "account_id", "external_id", "needs_refresh",
                           "refresh_attempts", "refresh_due_at", "erased_at"]}),
        ("From the provider (read-only: sync owns these)", {
            "fields": [*PROVIDER_FIELDS_SHOWN, "remote_updated_at"],
            "classes": ["crm-provider-fields"],
            "description": "Set only by webhooks from the provider; an edit here would be overwritten.",
        }),
        ("Ours (never touched by sync)", {
            "fields": ["notes"], "classes": ["crm-local-fields"], "description": "Local enrichment, edit freely.",
        }),
        ("Webhook events", {"fields": ["timeline"], "description": "Newest first: what each event changed."}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]  # fmt: skip

    class Media:
        css = {"all": ["crm/admin.css"]}

    def has_add_permission(self, request):
        return False  # contacts come from the providers

    def has_delete_permission(self, request, obj=None):
        return False  # removing a person is an erasure, which leaves a record

    def has_change_permission(self, request, obj=None):
        # A tombstone is read-only: its page shows no editable field and no save (a POST is refused).
        if obj is not None and obj.is_erased:
            return False
        return super().has_change_permission(request, obj)

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        by_external_id = queryset.filter(external_id=search_term.strip())
        return search_contacts(queryset, search_term) | by_external_id, False

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

    @admin.action(description="Refresh now (look up the current state)", permissions=["change"])
    def refresh_now(self, request, queryset):
        queued, skipped = request_refresh(contacts=queryset)
        self.message_user(request, f"{len(queued)} contact(s) queued for a look-up.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: no fetcher for their provider, or erased and not reactivated.",
                messages.WARNING,
            )

    @admin.display(description="Name", ordering="name")
    def display_name(self, obj):
        return str(obj)

    @admin.display(description="Erased", ordering="erased_at", boolean=True)
    def erased_badge(self, obj):
        return obj.erased_at is not None

    @admin.display(description="State")
    def state_badges(self, obj):
        badges = []
        if obj.erased_at:
            badges.append(format_html('<span class="crm-badge crm-badge-erased" title="{}">erased</span>',
                                      f"Erased {obj.erased_at:%Y-%m-%d %H:%M} UTC"))  # fmt: skip
        if obj.needs_refresh:
            badges.append(
                mark_safe(  # noqa: S308  (constant markup)
                    '<span class="crm-badge crm-badge-refresh" title="Known only in part">needs refresh</span>'
                )
            )
        return format_html_join(" ", "{}", ((badge,) for badge in badges)) if badges else "—"

    @admin.display(description="Tags")
    def tags_display(self, obj):
        if not obj.tags:
            return "—"
        tags = obj.tags if isinstance(obj.tags, list) else [obj.tags]
        items = format_html_join("", '<span class="crm-tag">{}</span>', ((tag,) for tag in tags))
        return format_html('<div class="crm-tags">{}</div>', items)

    @admin.display(description="Custom fields")
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

    @admin.display(description="Timeline")
    def timeline(self, obj):
        entries = contact_timeline(obj)
        if not entries:
            return "No webhook events stored for this contact."
        rows = format_html_join(
            "",
            '<tr class="crm-timeline-entry"><td>{}<br><span class="crm-muted">received {}</span></td>'
            '<td><a href="{}">{}</a></td><td><span class="crm-badge crm-status-{}">{}</span>'
            '<div class="crm-reason">{}</div></td><td>{}</td><td class="crm-fields">{}</td></tr>',
            (
                (
                    _when(entry.occurred_at),
                    _when(entry.received_at),
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
            '<table class="crm-timeline" id="contact-timeline"><thead><tr><th>When</th><th>Event</th>'
            "<th>Status</th><th>Who</th><th>What changed</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    # --- Erasure (LGPD data-subject request) ---------------------------------------------------------
    def has_erase_permission(self, request):
        return request.user.has_perm("contacts.erase_contact")

    @admin.action(description="Erase (data-subject request)", permissions=["erase"])
    def erase_data_subject(self, request, queryset):
        """Confirmation page with a required reason; on confirm, erase each contact still holding data."""
        contacts = [c for c in queryset.order_by("pk") if not c.is_erased or has_personal_data(c)]
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
            self.message_user(request, f"Erased {erased} contact(s); see the erasure log.", messages.SUCCESS)
            return None
        if not contacts:
            self.message_user(request, "The selected contacts were already erased: nothing to do.", messages.INFO)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase personal data (data-subject request)",
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


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "—"


def _actor(entry) -> str:
    if not (entry.actor_type or entry.actor_id):
        return "—"
    return " ".join(part for part in (entry.actor_type, entry.actor_id) if part)


def _changed(entry):
    if not entry.changed_fields and not entry.drift:
        return "—"
    changed = format_html_join(" ", "<code>{}</code>", ((name,) for name in entry.changed_fields))
    if not entry.drift:
        return changed
    drift = format_html_join(" ", "<code>{}</code>", ((name,) for name in entry.drift))
    return format_html('{} <span class="crm-muted">drift: {}</span>', changed, drift)


class ErasureRequestForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Why (e.g. the request's ticket number). Kept forever in the erasure log: never the "
        "person's name, email or phone.",
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


# Columns of the CSV export: every field the hash covers, so the chain can be re-verified from the file.
# To do so, undo what makes the file safe to open: strip the leading ' that guards cells starting with
# = + - @ against spreadsheet formulas, re-read times as UTC datetimes and split erased_fields back into a
# list, then rebuild ErasureRecord.canonical_json().
EXPORT_FIELDS = ("sequence", "provider", "account_id", "external_id", "contact_id", "event_id", "requested_by",
                 "requested_by_type", "deleted_at", "erased_at", "reason", "erased_fields", "redacted_events",
                 "email_fingerprint", "phone_fingerprint", "prev_hash", "hash")  # fmt: skip


@admin.register(ErasureRecord)
class ErasureRecordAdmin(ReadOnlyModelAdmin):
    """The erasure log: read-only for everyone, superusers included; CSV export needs its own permission
    (``contacts.export_erasurerecord``): taking the log out of the system is a separate act from reading it."""

    list_display = ["sequence", "provider", "account_id", "external_id", "requested_by_type", "requested_by",
                    "deleted_at", "erased_at", "redacted_events", "short_hash"]  # fmt: skip
    list_filter = ["provider", "requested_by_type", ("erased_at", admin.DateFieldListFilter),
                   ("deleted_at", admin.DateFieldListFilter)]  # fmt: skip
    search_fields = ["=external_id", "=account_id", "=event_id"]
    date_hierarchy = "erased_at"
    actions = ["export_selected_csv"]
    list_per_page = 100
    show_full_result_count = False

    def has_export_permission(self, request):
        return request.user.has_perm("contacts.export_erasurerecord")

    @admin.display(description="Hash")
    def short_hash(self, obj):
        return format_html("<code>{}…</code>", obj.hash[:12])

    def get_urls(self):
        export = path("export/", self.admin_site.admin_view(self.export_view), name="contacts_erasurerecord_export")
        return [export, *super().get_urls()]

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
            return HttpResponseRedirect(f"{reverse('admin:contacts_erasurerecord_changelist')}?e=1")
        return self._csv_response(request, changelist.get_queryset(request))

    @admin.action(description="Export selected records as CSV", permissions=["export"])
    def export_selected_csv(self, request, queryset):
        return self._csv_response(request, queryset)

    def _csv_response(self, request, queryset):
        record_access(user=request.user, kind=Kind.ERASURES_CSV, rows=queryset.count())
        records = queryset.order_by("sequence").iterator(chunk_size=1000)
        return csv_response(
            filename=f"erasure-log-{timezone.now():%Y%m%dT%H%M%SZ}.csv",
            header=EXPORT_FIELDS,
            rows=([_export_value(record, name) for name in EXPORT_FIELDS] for record in records),
        )


def _export_value(record: ErasureRecord, name: str):
    value = getattr(record, name)
    return ",".join(value) if isinstance(value, list) else value
