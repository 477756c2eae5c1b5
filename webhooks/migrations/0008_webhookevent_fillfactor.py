"""Leave 10% of each page of the event table free (PostgreSQL).

An erasure rewrites each of the contact's stored payloads in place, and so does the payload purge; none of
the columns they change is indexed, so with room on the row's page PostgreSQL keeps the new version there
(a HOT update) instead of adding an entry to each of the table's six indexes. With full pages every such
update went to another page and touched every index (docs/performance.md, erasure).
"""

from django.db import migrations

TABLE = "webhooks_webhookevent"


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 90)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0007_event_reprocess_and_export_permissions")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
