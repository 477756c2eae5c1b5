import django_filters
from rest_framework import serializers, viewsets

from contacts.models import Contact, ErasureRecord


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id", "provider", "account_id", "external_id", "name", "phone", "email", "avatar_url", "source",
            "tags", "custom_fields", "assigned_to", "status_id", "status", "sub_group_id", "can_sms",
            "can_email", "can_call", "remote_created_at", "remote_updated_at", "needs_refresh", "erased_at",
            "created_at", "updated_at",
        ]  # fmt: skip


class ContactFilter(django_filters.FilterSet):
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    erased = django_filters.BooleanFilter(field_name="erased_at", lookup_expr="isnull", exclude=True)
    search = django_filters.CharFilter(method="filter_search", label="Name, email or phone contains")

    class Meta:
        model = Contact
        fields = ["provider", "account_id", "external_id"]

    def filter_search(self, queryset, name, value):
        from contacts.selectors import search_contacts

        return search_contacts(queryset, value)


class ContactViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_class = ContactFilter


class ErasureRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ErasureRecord
        fields = [
            "id", "provider", "account_id", "external_id", "event_id", "requested_by", "requested_by_type",
            "deleted_at", "erased_at", "reason", "erased_fields", "redacted_events", "prev_hash", "hash",
        ]  # fmt: skip


class ErasureRecordViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ErasureRecord.objects.all()
    serializer_class = ErasureRecordSerializer
    filterset_fields = ["provider", "account_id", "external_id"]
