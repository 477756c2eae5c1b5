"""Two indexes fewer for every stored event to maintain (docs/performance.md › Worker-mode ingest).

- ``webhookevent_status_idx`` (every event, by status) becomes ``webhookevent_failed_idx``: only the failed
  events, which is all that was read through it by status alone (the dashboard's attention count and list);
  pending events are read through the queue's index.
- ``webhookevent_pending_idx`` (the pending events, for /metrics) is folded into the queue's own
  ``webhookevent_due_idx``, which now carries ``provider`` and ``received_at`` so that the scrape is still
  answered from the index alone. Both indexed the same rows.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0011_event_log_is_the_queue")]

    operations = [
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("status", "failed")), fields=["received_at"], name="webhookevent_failed_idx"
            ),
        ),
        migrations.RemoveIndex(model_name="webhookevent", name="webhookevent_status_idx"),
        migrations.RemoveIndex(model_name="webhookevent", name="webhookevent_pending_idx"),
        # Same name, new columns: the old one goes first.
        migrations.RemoveIndex(model_name="webhookevent", name="webhookevent_due_idx"),
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("status", "received")),
                fields=["-erasure", "next_attempt_at", "id"],
                include=("provider", "received_at"),
                name="webhookevent_due_idx",
            ),
        ),
    ]
