from rest_framework import serializers, viewsets

from webhooks.models import WebhookEvent


class WebhookEventSerializer(serializers.ModelSerializer):
    payload = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = WebhookEvent
        fields = [
            "id", "provider", "event_id", "event_type", "account_id", "external_id", "status",
            "status_reason", "occurred_at", "received_at", "processed_at", "payload",
        ]  # fmt: skip


class WebhookEventViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = WebhookEvent.objects.all()
    serializer_class = WebhookEventSerializer
    filterset_fields = ["provider", "event_id", "event_type", "status", "external_id"]
