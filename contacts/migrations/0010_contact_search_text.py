import re
import unicodedata

from django.db import migrations, models

# The admin's and the API's search compares folded text (contacts.search) in one column; on PostgreSQL a
# trigram GIN index on exactly the expression Django's "contains" compares (search_text::text) serves it.
# The per-column trigram indexes of 0006 served the old name/email/phone search only: dropped, since
# each one costs every write. SQLite has no such index: the RunPython steps do nothing there.
SEARCH_INDEX = "contact_search_trgm_idx"
OLD_TRIGRAM_INDEXES = {
    "contact_name_trgm_idx": 'UPPER("name"::text) gin_trgm_ops',
    "contact_email_trgm_idx": 'UPPER("email"::text) gin_trgm_ops',
    "contact_phone_trgm_idx": '("phone"::text) gin_trgm_ops',
}
BATCH = 2000

# The search document as it was when this migration was made (migrations import no application code).
PHONE_TERM = re.compile(r"^[\d\s()+\-./]+$")


def fold(text):
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().split())


def digits(text):
    return "".join(ch for ch in text if ch.isdigit())


def values(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from values(item)
    elif isinstance(value, list):
        for item in value:
            yield from values(item)
    elif value is not None and value != "":
        yield str(value)


def search_document(contact):
    if contact.erased_at is not None:
        return ""
    phone = contact.phone or ""
    parts = [contact.name, contact.email, "" if PHONE_TERM.match(phone) else phone, digits(phone),
             *values(contact.tags), *values(contact.custom_fields or {}), contact.external_id, contact.account_id]
    return "\n".join(folded for folded in (fold(str(part)) for part in parts if part) if folded)


def fill_search_text(apps, schema_editor):
    Contact = apps.get_model("contacts", "Contact")
    last_pk = 0
    while True:
        batch = list(Contact.objects.filter(pk__gt=last_pk).order_by("pk")[:BATCH])
        if not batch:
            return
        for contact in batch:
            contact.search_text = search_document(contact)
        Contact.objects.bulk_update(batch, ["search_text"])
        last_pk = batch[-1].pk


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON contacts_contact USING gin (("search_text"::text) gin_trgm_ops)'
    )
    for name in OLD_TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
    for name, expression in OLD_TRIGRAM_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON contacts_contact USING gin ({expression})")


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0009_tombstone_holds_no_personal_data'),
    ]

    operations = [
        migrations.AddField(
            model_name='contact',
            name='search_text',
            field=models.TextField(blank=True, default='', editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
