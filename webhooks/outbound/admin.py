"""Webhooks › Outbound messages: what was sent where, each try's status code and time, and replay."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin import ReadOnlyModelAdmin
from webhooks.outbound.models import OutboundAttempt, OutboundMessage
from webhooks.outbound.queue import replay_messages


class AttemptInline(admin.TabularInline):
    model = OutboundAttempt
    fields = ["attempted_at", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyModelAdmin):
    list_display = ["message_id", "event_type", "endpoint", "status", "attempts", "last_status_code", "last_error",
                    "created_at", "delivered_at", "next_attempt_at"]  # fmt: skip
    list_filter = ["status", "event_type", "endpoint"]
    search_fields = ["=message_id"]
    list_select_related = ["endpoint"]
    inlines = [AttemptInline]
    actions = ["replay"]
    show_full_result_count = False

    @admin.action(description=_("Replay selected messages (same webhook-id)"), permissions=["replay"])
    def replay(self, request, queryset):
        count = replay_messages(queryset)
        message = ngettext(
            "%(count)d message is due again; webhook_worker delivers it.",
            "%(count)d messages are due again; webhook_worker delivers them.",
            count,
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    def has_replay_permission(self, request):
        return request.user.has_perm("webhooks.replay_outboundmessage")
