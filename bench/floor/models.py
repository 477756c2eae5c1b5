from django.db import models


class FloorEvent(models.Model):
    """One stored delivery: the unique key decides duplicates, the raw body is kept."""

    dedupe_key = models.CharField(max_length=128, unique=True)
    body = models.BinaryField()
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True)

    def __str__(self):
        return self.dedupe_key


class FloorContact(models.Model):
    """The least a synced contact is (``FLOOR_APPLY``): its key, its data, the time that last set it."""

    key = models.CharField(max_length=128, unique=True)
    data = models.JSONField()
    changed_at = models.CharField(max_length=40)

    def __str__(self):
        return self.key
