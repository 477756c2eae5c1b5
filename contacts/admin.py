from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html

from contacts.models import SYNCED_FIELDS, Contact, ErasureRecord
from contacts.selectors import search_contacts
from contacts.services import request_refresh


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
class ContactAdmin(admin.ModelAdmin):
    list_display = ["display_name", "provider", "account_id", "external_id", "phone", "email", "source",
                    "status", "sub_group_id", "needs_refresh", "erased_badge", "updated_at"]  # fmt: skip
    list_filter = ["provider", "source", ErasedFilter, "needs_refresh", "status", "sub_group_id"]
    search_fields = ["name", "email", "phone", "=external_id"]
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = [
        "provider", "account_id", "external_id", *SYNCED_FIELDS, "remote_updated_at", "needs_refresh",
        "refresh_attempts", "refresh_due_at", "erased_at", "created_at", "updated_at",
    ]  # fmt: skip
    actions = ["refresh_now"]
    fieldsets = [
        (None, {"fields": ["provider", "account_id", "external_id", "needs_refresh", "refresh_attempts",
                           "refresh_due_at", "erased_at"]}),
        ("From the provider (read-only: sync owns these)", {"fields": [*SYNCED_FIELDS, "remote_updated_at"]}),
        ("Ours (never touched by sync)", {"fields": ["notes"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False  # contacts come from the providers

    def has_delete_permission(self, request, obj=None):
        return False  # removing a person is an erasure, which leaves a record

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        by_external_id = queryset.filter(external_id=search_term.strip())
        return search_contacts(queryset, search_term) | by_external_id, False

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


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    """The erasure log: read-only for everyone, superusers included."""

    list_display = ["sequence", "provider", "account_id", "external_id", "requested_by_type", "requested_by",
                    "deleted_at", "erased_at", "redacted_events", "short_hash"]  # fmt: skip
    list_filter = ["provider", "requested_by_type"]
    search_fields = ["=external_id", "=account_id", "=event_id"]
    date_hierarchy = "erased_at"
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Hash")
    def short_hash(self, obj):
        return format_html("<code>{}…</code>", obj.hash[:12])
