"""The event log becomes the queue (docs/architecture.md › The queue).

- ``next_attempt_at`` is when an event is due: set for every event still ``received`` (its arrival time,
  unless a retry already moved it), and the default for new ones.
- ``erasure`` marks deletions, which the worker claims before anything else.
- A partial index over the due events, in claim order.
- PostgreSQL: a trigger wakes idle workers (``NOTIFY webhook_events``) in the transaction that stores an
  event, so a wake-up is never sent for an event that was not stored, nor lost for one that was.
- Upgrading from django-tasks-db: its pending rows for events and look-ups are deleted. The events they
  pointed at are still ``received`` and now due, and contacts that need a look-up are due by
  ``needs_refresh``: the new worker does the same work, nothing is lost, and an old ``db_worker`` left
  running finds nothing to run. The table itself stays (drop it once upgraded: docs/production.md).
"""

from django.db import migrations, models
from django.db.models import F, Q

import django.utils.timezone

EVENTS = "webhooks_webhookevent"
# Both providers' deletion event type when this migration was written (Timely, FitProTracker).
DELETION_TYPES = ("contact.deleted",)
OLD_TASK_TABLE = "django_tasks_database_dbtaskresult"
OLD_TASK_PATHS = ("webhooks.tasks.process_webhook_event", "contacts.tasks.refresh_contact")

NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION webhooks_notify_event_stored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Identical notifications of one transaction are delivered once; the payload carries nothing.
    PERFORM pg_notify('webhook_events', '');
    RETURN NULL;
END $$;
"""
NOTIFY_TRIGGER = f"""
CREATE TRIGGER webhookevent_notify_stored AFTER INSERT ON {EVENTS}
FOR EACH ROW EXECUTE FUNCTION webhooks_notify_event_stored();
"""


def make_pending_events_due(apps, schema_editor):
    event_model = apps.get_model("webhooks", "WebhookEvent")
    event_model.objects.filter(status="received", next_attempt_at__isnull=True).update(
        next_attempt_at=F("received_at")
    )
    event_model.objects.filter(Q(event_type__in=DELETION_TYPES)).update(erasure=True)


def drop_old_task_rows(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TASK_TABLE not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        # Raw SQL: django-tasks-db is no longer installed, so its model is not there to ask.
        cursor.execute(
            f"DELETE FROM {OLD_TASK_TABLE} WHERE status IN ('READY', 'RUNNING') AND task_path IN (%s, %s)",  # noqa: S608
            list(OLD_TASK_PATHS),
        )


def add_notify_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NOTIFY_FUNCTION)
        schema_editor.execute(NOTIFY_TRIGGER)


def drop_notify_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS webhookevent_notify_stored ON {EVENTS}")
        schema_editor.execute("DROP FUNCTION IF EXISTS webhooks_notify_event_stored()")


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0010_pending_events_index")]

    operations = [
        migrations.AddField(
            model_name="webhookevent",
            name="erasure",
            field=models.BooleanField(
                default=False, help_text="A deletion: claimed before any other due event.", verbose_name="erasure"
            ),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="next_attempt_at",
            field=models.DateTimeField(
                blank=True,
                default=django.utils.timezone.now,
                help_text="When the event is (next) due to be applied.",
                null=True,
                verbose_name="next attempt at",
            ),
        ),
        migrations.RunPython(make_pending_events_due, migrations.RunPython.noop),
        migrations.RunPython(drop_old_task_rows, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("status", "received")),
                fields=["-erasure", "next_attempt_at", "id"],
                name="webhookevent_due_idx",
            ),
        ),
        migrations.RunPython(add_notify_trigger, drop_notify_trigger),
    ]
