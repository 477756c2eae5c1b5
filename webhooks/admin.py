import json

from django.contrib import admin, messages
from django.utils.html import format_html

from webhooks.models import PayloadPurge, RejectedDelivery, WebhookEvent
from webhooks.replay import reprocess_events


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["id", "provider", "event_type", "account_id", "external_id", "status", "occurred_at", "received_at"]
    list_filter = ["status", "provider", "event_type", "signature_form"]
    search_fields = ["=event_id", "=dedupe_key", "=external_id", "=account_id"]
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    list_per_page = 100
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["provider", "event_type", "event_id", "dedupe_key", "account_id", "external_id"]}),
        ("Outcome", {"fields": ["status", "status_reason", "drift", "attempts", "next_attempt_at", "occurred_at",
                                "received_at", "processed_at"]}),
        ("Delivery", {"fields": ["signature_form", "remote_addr", "pretty_headers", "pretty_payload",
                                 "redacted_at", "payload_purged_at"]}),
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Headers")
    def pretty_headers(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, sort_keys=True))

    @admin.display(description="Payload")
    def pretty_payload(self, obj):
        if obj.body is None:
            return "(purged)"
        try:
            text = json.dumps(obj.payload, indent=2, ensure_ascii=False)
        except ValueError:
            text = bytes(obj.body).decode("utf-8", "replace")
        return format_html("<pre>{}</pre>", text)

    @admin.action(description="Reprocess selected events", permissions=["view"])
    def reprocess(self, request, queryset):
        count = len(reprocess_events(queryset))
        self.message_user(request, f"{count} event(s) queued for processing.", messages.SUCCESS)


@admin.register(RejectedDelivery)
class RejectedDeliveryAdmin(admin.ModelAdmin):
    list_display = ["hour", "provider", "reason", "count", "last_remote_addr"]
    list_filter = ["provider", "reason"]
    date_hierarchy = "hour"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PayloadPurge)
class PayloadPurgeAdmin(admin.ModelAdmin):
    """Retention runs (``prune_webhook_events``): read-only evidence that old payloads are dropped."""

    list_display = ["purged_at", "cutoff", "events", "by"]
    date_hierarchy = "purged_at"
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
