import json
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnlyModelAdmin, StoredIdSearchMixin
from config.csv_export import cell_text, column_titles, csv_response
from config.list_filters import LabelledValuesFilter
from config.pagination import CappedCountPaginator
from webhooks.bridge import access_trail
from webhooks.models import PayloadPurge, RejectedDelivery, WebhookEvent
from webhooks.readable import actor_type_label, field_label, readable_reason, readable_rejection
from webhooks.replay import reprocess_events

# What an export carries per event: the API's fields plus what staff diagnose with.
EXPORT_FIELDS = [
    "id", "provider", "event_id", "dedupe_key", "event_type", "account_id", "external_id", "status",
    "status_reason", "attempts", "occurred_at", "received_at", "processed_at", "changed_fields", "drift",
    "actor_type", "actor_id", "signature_form", "remote_addr", "headers", "redacted_at", "payload_purged_at",
]  # fmt: skip


@admin.register(WebhookEvent)
class WebhookEventAdmin(StoredIdSearchMixin, ReadOnlyModelAdmin):
    # Narrow enough for a 1,366 px screen: provider and account sit in the contact's cell.
    list_display = ["id", "event_type", "contact_cell", "status_badge", "attempts", "occurred_at", "received_at"]
    list_filter = ["status", "provider", "event_type", "signature_form"]
    search_fields = ["=event_id", "=dedupe_key", "=external_id", "=account_id"]
    stored_id_fields = ("event_id", "dedupe_key", "external_id", "account_id")
    date_hierarchy = "received_at"
    actions = ["reprocess", "export_json", "export_csv"]
    list_per_page = 100
    show_full_result_count = False
    paginator = CappedCountPaginator  # millions of events: the list counts to "more than 10,000"
    fieldsets = [
        (None, {"fields": ["provider", "event_type", "event_id", "dedupe_key", "account_id", "external_id",
                           "contact_link"]}),
        (_("Outcome"), {"fields": ["status_badge", "status_reason_display", "changed_fields_display",
                                "drift_display", "actor_type_display", "actor_id"]}),
        (_("History"), {"fields": ["occurred_at", "received_at", "attempts", "next_attempt_at", "processed_at"],
                        "description": _("When it happened upstream, when it reached us, how many times it was "
                                         "processed (a retry or a replay adds one), when it is retried next, and "
                                         "when it was last processed.")}),
        (_("Delivery"), {"fields": ["signature_form", "remote_addr", "pretty_headers", "pretty_payload",
                                 "redacted_at", "payload_purged_at"]}),
    ]  # fmt: skip

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name == "webhooks_webhookevent_changelist":
            # A page of 100 rows must not drag up to 100 MB of raw bodies along; exports undo this.
            queryset = queryset.defer("body", "headers")
        return queryset

    @admin.display(description=_("Status"), ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="crm-badge crm-status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description=_("status reason"))
    def status_reason_display(self, obj):
        return readable_reason(obj.status_reason) or "—"

    @admin.display(description=_("actor type"))
    def actor_type_display(self, obj):
        return actor_type_label(obj.actor_type) or "—"

    @admin.display(description=_("Changed fields"))
    def changed_fields_display(self, obj):
        return _field_names(obj.changed_fields)

    @admin.display(description=_("Drift (before ≠ ours)"))
    def drift_display(self, obj):
        return _field_names(obj.drift)

    @admin.display(description=_("Contact"), ordering="external_id")
    def contact_link(self, obj):
        if not obj.external_id:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            contact_url(obj),
            gettext("%(provider)s contact %(id)s") % {"provider": obj.provider, "id": obj.external_id},
        )

    @admin.display(description=_("Contact"), ordering="external_id")
    def contact_cell(self, obj):
        contact = format_html('<a href="{}">{}</a>', contact_url(obj), obj.external_id) if obj.external_id else "—"
        return format_html('{}<br><span class="crm-muted">{} · {}</span>', contact, obj.provider, obj.account_id)

    @admin.display(description=_("Headers"))
    def pretty_headers(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, sort_keys=True))

    @admin.display(description=_("Payload"))
    def pretty_payload(self, obj):
        if obj.body is None:
            return gettext("(purged)")
        try:
            text = json.dumps(obj.payload, indent=2, ensure_ascii=False)
        except ValueError:
            text = bytes(obj.body).decode("utf-8", "replace")
        return format_html("<pre>{}</pre>", text)

    def has_reprocess_permission(self, request):
        return request.user.has_perm("webhooks.reprocess_webhookevent")

    def has_export_permission(self, request):
        return request.user.has_perm("webhooks.export_webhookevent")

    @admin.action(description=_("Reprocess selected events"), permissions=["reprocess"])
    def reprocess(self, request, queryset):
        count = len(reprocess_events(queryset))
        message = ngettext("%(count)d event queued for processing.", "%(count)d events queued for processing.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Export selected events as JSON"), permissions=["export"])
    def export_json(self, request, queryset):
        events = queryset.defer(None).order_by("id").iterator(chunk_size=500)
        rows = [export_row(event) for event in events]
        access_trail().record_events_export(user=request.user, export_format="json", rows=len(rows))
        response = HttpResponse(
            json.dumps(rows, indent=2, ensure_ascii=False, default=str), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="{export_name("json")}"'
        return response

    @admin.action(description=_("Export selected events as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        columns = [*EXPORT_FIELDS, "payload"]
        access_trail().record_events_export(user=request.user, export_format="csv", rows=queryset.count())
        events = queryset.defer(None).order_by("id").iterator(chunk_size=500)
        return csv_response(
            filename=export_name("csv"),
            header=column_titles(WebhookEvent, columns),
            rows=([export_row(event, times_as_text=False)[name] for name in columns] for event in events),
            cell=_csv_cell,
        )


def contact_url(event: WebhookEvent) -> str:
    """The event's contact page, by its provider key through a contacts-owned URL that redirects there:
    webhooks does not know the contact table."""
    key = {"provider": event.provider, "account_id": event.account_id, "external_id": event.external_id}
    return reverse("admin:contacts_contact_by_key") + "?" + urlencode(key)


def _field_names(names):
    if not names:
        return "—"
    return format_html_join(" ", "<code>{}</code>", ((field_label(name),) for name in names))


def export_name(extension: str) -> str:
    return f"webhook-events-{timezone.now():%Y%m%dT%H%M%SZ}.{extension}"


def export_row(event: WebhookEvent, *, times_as_text: bool = True) -> dict:
    """One event as exported; times as ISO-8601 text (JSON) or as they are (CSV: in the reader's form)."""
    row = {name: getattr(event, name) for name in EXPORT_FIELDS}
    for name in ("occurred_at", "received_at", "processed_at", "redacted_at", "payload_purged_at"):
        if times_as_text:
            row[name] = row[name].isoformat() if row[name] else None
    try:
        row["payload"] = event.payload
    except ValueError:
        row["payload"] = bytes(event.body).decode("utf-8", "replace")
    return row


def _csv_cell(value) -> str:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return cell_text(value)


class RejectionReasonFilter(LabelledValuesFilter):
    label = staticmethod(readable_rejection)


@admin.register(RejectedDelivery)
class RejectedDeliveryAdmin(admin.ModelAdmin):
    list_display = ["hour", "provider", "reason_display", "count", "last_remote_addr"]
    list_filter = ["provider", ("reason", RejectionReasonFilter)]
    date_hierarchy = "hour"

    @admin.display(description=_("reason"), ordering="reason")
    def reason_display(self, obj):
        return readable_rejection(obj.reason)

    def get_fields(self, request, obj=None):
        # The reason in the reader's language on the record's page too (the stored words stay).
        return ["reason_display" if name == "reason" else name for name in super().get_fields(request, obj)]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PayloadPurge)
class PayloadPurgeAdmin(ReadOnlyModelAdmin):
    """Retention runs (``prune_webhook_events``): read-only evidence that old payloads are dropped."""

    list_display = ["purged_at", "cutoff", "events", "by"]
    date_hierarchy = "purged_at"
    actions = None


from webhooks.outbound import admin as outbound_admin  # noqa: E402, F401  (registers the outbound pages)
