from django.db import migrations, models

# Trigram GIN indexes serve the admin's and the API's "contains" search (search_contacts) on PostgreSQL.
# They index exactly the expressions Django compares: UPPER(col::text) for icontains, col::text for
# contains. SQLite has no such index: there the operation does nothing. pg_trgm is a trusted extension
# (PostgreSQL 13+), so the database owner may create it without being a superuser.
TRIGRAM_INDEXES = {
    "contact_name_trgm_idx": 'UPPER("name"::text) gin_trgm_ops',
    "contact_email_trgm_idx": 'UPPER("email"::text) gin_trgm_ops',
    "contact_phone_trgm_idx": '("phone"::text) gin_trgm_ops',
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON contacts_contact USING gin ({expression})")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0005_compliance_group'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(fields=['source'], name='contact_source_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(fields=['status'], name='contact_status_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(fields=['sub_group_id'], name='contact_sub_group_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(fields=['external_id'], name='contact_external_id_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('needs_refresh', True)), fields=['needs_refresh'], name='contact_needs_refresh_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('erased_at__isnull', False)), fields=['erased_at'], name='contact_erased_idx'),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
