"""PostgreSQL: the trigger that wakes idle workers fires only for an event stored due (status ``received``).

An inline delivery is applied before its row is inserted and arrives ``processed``: there is nothing for a
worker to do, and a notification per delivery was work for nothing at every commit.
"""

from django.db import migrations

EVENTS = "webhooks_webhookevent"
TRIGGER = "webhookevent_notify_stored"


def trigger_sql(condition: str) -> str:
    return (
        f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT ON {EVENTS} FOR EACH ROW {condition}"
        " EXECUTE FUNCTION webhooks_notify_event_stored()"
    )


def notify_for_due_events_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(trigger_sql("WHEN (NEW.status = 'received')"))


def notify_for_every_event(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(trigger_sql(""))


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0014_outbound_claims_per_endpoint")]

    operations = [migrations.RunPython(notify_for_due_events_only, notify_for_every_event)]
