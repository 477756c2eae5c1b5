from django.db import models


class FloorEvent(models.Model):
    """One stored delivery: the unique key decides duplicates, the raw body is kept."""

    dedupe_key = models.CharField(max_length=128, unique=True)
    body = models.BinaryField()
    received_at = models.DateTimeField()

    def __str__(self):
        return self.dedupe_key
