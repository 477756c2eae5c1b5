import django_filters
from django.conf import settings
from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from config.api import StoredIdFilter, UpdatedAtCursorPagination
from contacts.models import Contact, DataSubjectRequest, ErasureRecord, PropagationStatus
from contacts.selectors import search_contacts
from contacts.services.propagation import propagation_of


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id", "provider", "account_id", "external_id", "name", "phone", "email", "avatar_url", "source",
            "tags", "custom_fields", "assigned_to", "status_id", "status", "sub_group_id", "can_sms",
            "can_email", "can_call", "remote_created_at", "remote_updated_at", "needs_refresh", "erased_at",
            "created_at", "updated_at",
        ]  # fmt: skip


ERASED_CHOICES = {"true": True, "false": False, "True": True, "False": False}


def provider_choices():
    return [(name, name) for name in settings.WEBHOOK_PROVIDERS]


class ContactFilter(django_filters.FilterSet):
    # A provider we do not know is a 400 naming the parameter, not an empty page.
    provider = django_filters.ChoiceFilter(choices=provider_choices)
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Contacts changed at or after this ISO-8601 time (incremental sync)",
    )
    # A choice, not a BooleanFilter: that one reads an unknown value ("perhaps") as no filter at all.
    erased = django_filters.ChoiceFilter(
        choices=[(value, value) for value in ERASED_CHOICES],
        method="filter_erased",
        label="true: only erased; false: none erased",
    )
    # An id not in plain form is found by the digest it is stored as (config.erased_ids).
    account_id = StoredIdFilter()
    external_id = StoredIdFilter()
    search = django_filters.CharFilter(
        method="filter_search",
        label="Every word in name, email, phone (however typed), tags, custom field values or ids; "
        "case and accents ignored",
    )

    class Meta:
        model = Contact
        fields = ["account_id", "external_id"]

    def filter_erased(self, queryset, name, value):
        return queryset.filter(erased_at__isnull=not ERASED_CHOICES[value])

    def filter_search(self, queryset, name, value):
        return search_contacts(queryset, value)


class ContactViewSet(viewsets.ReadOnlyModelViewSet):
    """Synced contacts, oldest change first: pages follow `(updated_at, id)`.

    Incremental sync: start with `?updated_since=<last sync time>`, follow `next` until it is null,
    then keep the `updated_at` of the last row as the next `updated_since`. A contact that changes
    while you page is served again later with its new state; none is skipped.
    """

    queryset = Contact.objects.all()
    pagination_class = UpdatedAtCursorPagination
    serializer_class = ContactSerializer
    filterset_class = ContactFilter



class PropagationEntrySerializer(serializers.Serializer):
    system = serializers.CharField(help_text="The downstream system's name (or the source provider's, a manual task).")
    status = serializers.ChoiceField(choices=PropagationStatus.choices)
    at = serializers.DateTimeField(allow_null=True, help_text="When delivered, answered, or last tried.")


class ErasureRecordSerializer(serializers.ModelSerializer):
    propagation = serializers.SerializerMethodField(help_text="Every system this erasure must reach, and its status.")

    class Meta:
        model = ErasureRecord
        fields = [
            "id", "provider", "account_id", "external_id", "event_id", "requested_by", "requested_by_type",
            "deleted_at", "erased_at", "reason", "erased_fields", "redacted_events", "reference", "prev_hash", "hash",
            "propagation",
        ]  # fmt: skip

    @extend_schema_field(PropagationEntrySerializer(many=True))
    def get_propagation(self, record):
        known = self.context.get("propagation")
        entries = known[record.pk] if known is not None else propagation_of([record])[record.pk]
        return PropagationEntrySerializer(entries, many=True).data


class ErasureRecordFilter(django_filters.FilterSet):
    account_id = StoredIdFilter()
    external_id = StoredIdFilter()

    class Meta:
        model = ErasureRecord
        fields = ["provider", "account_id", "external_id"]


class ErasureRecordViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ErasureRecord.objects.all()
    serializer_class = ErasureRecordSerializer
    filterset_class = ErasureRecordFilter

    def get_serializer(self, *args, **kwargs):
        """A page's propagation is read in one go, not per record."""
        if args and isinstance(args[0], list | tuple):
            kwargs.setdefault("context", self.get_serializer_context())["propagation"] = propagation_of(list(args[0]))
        return super().get_serializer(*args, **kwargs)


class DataSubjectRequestSerializer(serializers.ModelSerializer):
    contacts = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text="Our contact ids.")
    erasures = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="sequence", help_text="Sequence numbers in the erasure log."
    )
    handled_by = serializers.SlugRelatedField(read_only=True, slug_field="username", allow_null=True)
    exports = serializers.IntegerField(source="export_count", read_only=True, help_text="How many exports.")

    class Meta:
        model = DataSubjectRequest
        fields = [
            "id", "kind", "received_at", "due_at", "status", "closed_at", "refusal_reason", "reference",
            "handled_by", "contacts", "erasures", "exports", "anonymized_at",
        ]  # fmt: skip


class DataSubjectRequestFilter(django_filters.FilterSet):
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt", label="Due before this time")
    due_after = django_filters.IsoDateTimeFilter(
        field_name="due_at", lookup_expr="gte", label="Due at or after this time"
    )

    class Meta:
        model = DataSubjectRequest
        fields = ["status", "kind"]


class DataSubjectRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """The data-subject request register (read-only). Overdue requests: `?status=open&due_before=<now>`."""

    queryset = (
        DataSubjectRequest.objects.select_related("handled_by")
        # The contacts' ids only: this register shows no one's data.
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.only("pk")), "erasures")
        .annotate(export_count=Count("exports"))
        .order_by("id")
    )
    serializer_class = DataSubjectRequestSerializer
    filterset_class = DataSubjectRequestFilter
