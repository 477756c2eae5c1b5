import django_filters
from django.conf import settings
from rest_framework import serializers, viewsets

from config.api import StoredIdFilter
from webhooks.models import WebhookEvent


class WebhookEventSerializer(serializers.ModelSerializer):
    payload = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = WebhookEvent
        fields = [
            "id", "provider", "event_id", "event_type", "account_id", "external_id", "status",
            "status_reason", "occurred_at", "received_at", "processed_at", "payload",
        ]  # fmt: skip


class WebhookEventFilter(django_filters.FilterSet):
    # A provider we do not know is a 400 naming the parameter, as an unknown status is.
    provider = django_filters.ChoiceFilter(choices=lambda: [(name, name) for name in settings.WEBHOOK_PROVIDERS])
    # An id not in plain form is found by the digest it is stored as (config.erased_ids).
    event_id = StoredIdFilter()
    external_id = StoredIdFilter()

    class Meta:
        model = WebhookEvent
        fields = ["event_id", "event_type", "status", "external_id"]


class WebhookEventViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = WebhookEvent.objects.all()
    serializer_class = WebhookEventSerializer
    filterset_class = WebhookEventFilter
