from django.db import models


class PeerEvent(models.Model):
    """One delivery as dj-stripe keeps its events: the provider's event id unique, the payload as JSON."""

    dedupe_key = models.CharField(max_length=128, unique=True)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed = models.BooleanField(default=False)

    def __str__(self):
        return self.dedupe_key


class PeerContact(models.Model):
    """The contact a hand-written receiver keeps: the provider's fields, overwritten by each event."""

    key = models.CharField(max_length=160, unique=True)
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    tags = models.JSONField(default=list)
    custom_fields = models.JSONField(default=dict)
    assigned_to = models.CharField(max_length=64, blank=True)
    status_id = models.IntegerField(null=True)
    sub_group_id = models.IntegerField(null=True)
    deleted_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.key
