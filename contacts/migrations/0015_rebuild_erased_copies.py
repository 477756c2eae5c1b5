"""Copies of erased contacts stored before the rule "rebuild, don't redact" (docs/erasure-rules.md › What
survives an erasure) are rebuilt by it: payload keys, stored headers, ids not in plain form.

A migration imports no application code, and the rebuild is application code (the providers' declared
schemas). So this calls the ``rebuild_erased_copies`` command by name (``call_command``), and only when
there is something to rebuild, which it asks through the historical model: on a new database (CI, a fresh
install) no application code runs at all. The command reads the current models, which match the tables
as this migration leaves them as long as no later migration of ``contacts`` or ``webhooks`` changes the
columns it reads; if one ever does, it must depend on this one and, on a database that skips ahead, the
operator runs ``manage.py rebuild_erased_copies`` after ``migrate`` (it is idempotent).
"""

from django.core.management import call_command
from django.db import migrations


def rebuild_erased_copies(apps, schema_editor):
    contact = apps.get_model("contacts", "Contact")
    if contact.objects.filter(erased_at__isnull=False).exists() or apps.get_model(
        "webhooks", "ErasedSubject"
    ).objects.exists():
        call_command("rebuild_erased_copies")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0014_access_trail_names_every_contact_shown"),
        ("webhooks", "0012_fewer_indexes_per_ingested_event"),
    ]

    operations = [migrations.RunPython(rebuild_erased_copies, migrations.RunPython.noop, elidable=True)]
