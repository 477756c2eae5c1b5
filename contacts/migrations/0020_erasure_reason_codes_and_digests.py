# Reasons become codes (plus an optional ticket reference), and the erasure log is hashed through its fields'
# digests, so that free text written before can be blanked without breaking the chain (docs/compliance.md).
#
# Records already in the log (hash scheme 1) keep their hash and prev_hash; this migration re-chains them through
# digests (digest_hash, from the genesis, in sequence order) while their text is whole, then blanks every reason
# that is not a code, keeping its digest, but only in a record that still matches its first hash: a record
# changed behind the log's back keeps its text as evidence (verify_erasure_log names it). The next record
# appended follows the last digest_hash.
#
# On PostgreSQL the log's trigger refused every UPDATE. Its function is replaced (never dropped, never turned off)
# by one that lets through only what this needs, every other column unchanged: a scheme-1 record's digest_hash
# recorded once, and reason or reference blanked with the blanked text's digest recorded at the same time. This
# migration's own writes go through that path.
#
# The hashing is written out here as it was when this migration was made (migrations import no live code).

import hashlib
import json
from datetime import UTC

from django.db import migrations, models

GENESIS = "0" * 64
SCHEME_1_FIELDS = (
    "sequence", "provider", "account_id", "external_id", "contact_id", "event_id", "requested_by",
    "requested_by_type", "deleted_at", "erased_at", "reason", "erased_fields", "redacted_events",
    "email_fingerprint", "phone_fingerprint",
)  # fmt: skip
REASON_CODES = {
    "provider_deletion", "data_subject_request", "consent_withdrawn", "retention", "legal_order", "restore",
}  # fmt: skip

# The UPDATEs let through, every column but these four unchanged: digest_hash set once on a scheme-1 record
# that has none, and reason or reference set to '' while its digest (64 hex) is recorded under its name in
# blanked_digests, where nothing was; digests already recorded never change.
NARROW_GUARD_SQL = r"""
CREATE OR REPLACE FUNCTION contacts_erasure_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM contacts_erasurerecord) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE'
        AND to_jsonb(NEW) - 'reason' - 'reference' - 'blanked_digests' - 'digest_hash'
            = to_jsonb(OLD) - 'reason' - 'reference' - 'blanked_digests' - 'digest_hash'
        AND (NEW.digest_hash = OLD.digest_hash
            OR (OLD.digest_hash = '' AND OLD.hash_scheme = 1 AND NEW.digest_hash ~ '^[0-9a-f]{64}$'))
        AND NEW.blanked_digests - 'reason' - 'reference' = OLD.blanked_digests - 'reason' - 'reference'
        AND (
            (NEW.reason = OLD.reason AND NEW.blanked_digests -> 'reason' IS NOT DISTINCT FROM OLD.blanked_digests -> 'reason')
            OR (OLD.reason <> '' AND NEW.reason = '' AND NOT OLD.blanked_digests ? 'reason'
                AND coalesce(NEW.blanked_digests ->> 'reason', '') ~ '^[0-9a-f]{64}$')
        )
        AND (
            (NEW.reference = OLD.reference
                AND NEW.blanked_digests -> 'reference' IS NOT DISTINCT FROM OLD.blanked_digests -> 'reference')
            OR (OLD.reference <> '' AND NEW.reference = '' AND NOT OLD.blanked_digests ? 'reference'
                AND coalesce(NEW.blanked_digests ->> 'reference', '') ~ '^[0-9a-f]{64}$')
        )
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the erasure log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""
# Migration 0004's function, for going back.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION contacts_erasure_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM contacts_erasurerecord) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the erasure log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def canonical(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_value(item):
    if hasattr(item, "isoformat"):
        return item.astimezone(UTC).isoformat(timespec="microseconds")
    return item


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rechain_and_blank(apps, schema_editor):
    ErasureRecord = apps.get_model("contacts", "ErasureRecord")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NARROW_GUARD_SQL, params=None)
    link, blanked, kept = GENESIS, 0, 0
    for record in ErasureRecord.objects.order_by("sequence").iterator(chunk_size=2000):
        values = {name: canonical_value(getattr(record, name)) for name in SCHEME_1_FIELDS}
        whole = sha256_hex(record.prev_hash + canonical(values)) == record.hash
        digests = {name: sha256_hex(canonical(value)) for name, value in values.items()}
        digests["reference"] = sha256_hex(canonical(""))
        link = sha256_hex(link + canonical({"fields": digests, "hash_scheme": 1}))
        update = {"digest_hash": link}
        if record.reason not in REASON_CODES:
            if whole:
                update.update(reason="", blanked_digests={"reason": digests["reason"]})
                blanked += 1
            else:
                kept += 1
        ErasureRecord.objects.filter(pk=record.pk).update(**update)
    if blanked or kept:
        print(f"\n  Erasure log: {blanked} free-text reason(s) blanked, their digests kept.")
    if kept:
        print(
            f"  Erasure log: {kept} record(s) no longer match their hash: their reason was left as evidence; "
            "run manage.py verify_erasure_log --full."
        )


def restore_the_guard(apps, schema_editor):
    # Blanked text cannot come back; the old trigger can.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0019_downstream_systems"),
    ]

    operations = [
        migrations.AddField(
            model_name="erasurerecord",
            name="blanked_digests",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="blanked digests"),
        ),
        migrations.AddField(
            model_name="erasurerecord",
            name="digest_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="digest hash"),
        ),
        # Every record already written is scheme 1 (set by ADD COLUMN, no UPDATE); new ones are scheme 2.
        migrations.AddField(
            model_name="erasurerecord",
            name="hash_scheme",
            field=models.PositiveSmallIntegerField(default=1, editable=False, verbose_name="hash scheme"),
        ),
        migrations.AlterField(
            model_name="erasurerecord",
            name="hash_scheme",
            field=models.PositiveSmallIntegerField(default=2, editable=False, verbose_name="hash scheme"),
        ),
        migrations.AddField(
            model_name="erasurerecord",
            name="reference",
            field=models.CharField(
                blank=True,
                help_text="A ticket id: letters, then up to three groups of digits, e.g. DSR-88, DSR-2026-11, "
                "LGPD/2026/0042.",
                max_length=40,
                verbose_name="reference",
            ),
        ),
        migrations.AlterField(
            model_name="erasurerecord",
            name="reason",
            field=models.TextField(
                blank=True,
                choices=[
                    ("provider_deletion", "Deleted at the provider"),
                    ("data_subject_request", "Data-subject request"),
                    ("consent_withdrawn", "Consent withdrawn"),
                    ("retention", "Retention period ended"),
                    ("legal_order", "Legal or court order"),
                    ("restore", "Re-applied after a database restore"),
                ],
                verbose_name="reason",
            ),
        ),
        migrations.RunPython(rechain_and_blank, restore_the_guard),
    ]
