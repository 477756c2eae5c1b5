"""One index fewer for every stored event to maintain (docs/performance.md › Where the time goes).

``webhookevent_status_idx`` (every event, by status) becomes ``webhookevent_failed_idx``: only the failed
events, which is all that was read through it by status alone (the dashboard's attention count and list);
pending events are read through the queue's and the pending events' partial indexes.
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
    ]
