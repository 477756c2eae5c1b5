"""The erasure log hashes each field through its digest, so that text can be blanked and the chain still proves
every record; records written before (hash scheme 1) were re-chained through digests by migration 0020, which
also blanked their free-text reasons. On PostgreSQL the log's trigger lets through nothing but that blanking."""

import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from contacts.models import ErasureLogVerification, ErasureRecord
from contacts.services import erase_on_request
from tests.conftest import bypass_erasure_log_guard
from tests.database_dump import found_in, full_dump
from tests.factories import ContactFactory

BEFORE = ("contacts", "0019_downstream_systems")
OLD_REASONS = [
    "pedido da Maria Aparecida Silva, CPF 123.456.789-09",
    "timely: contact deleted at the source",
    "data-subject request #7, call back (47) 99123-4567",
]
PERSONAL = ["Maria Aparecida Silva", "123.456.789-09", "99123-4567"]
GENESIS = "0" * 64


def verify(*args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_erasure_log", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, err.getvalue()
    return 0, out.getvalue()


def scheme_1_hash(prev_hash: str, values: dict) -> str:
    """How records were hashed before this change: SHA-256 of the previous hash and the values' canonical JSON."""
    return hashlib.sha256((prev_hash + json.dumps(values, sort_keys=True, separators=(",", ":"))).encode()).hexdigest()


@pytest.fixture
def log_of_the_old_code(erasure_log_cleanup):
    """The database as it was before reasons became codes, with three records the old code wrote and a
    verification run that proved them; ``upgrade()`` migrates to now and returns what the migration printed."""
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old_apps = executor.loader.project_state([BEFORE]).apps
    OldRecord = old_apps.get_model("contacts", "ErasureRecord")
    prev_hash = GENESIS
    for sequence, reason in enumerate(OLD_REASONS, start=1):
        values = {
            "sequence": sequence, "provider": "timely", "account_id": "ws_abc123", "external_id": f"cont_{sequence}",
            "contact_id": None, "event_id": "", "requested_by": "dpo", "requested_by_type": "admin",
            "deleted_at": None, "erased_at": f"2026-11-0{sequence}T10:00:00.000000+00:00", "reason": reason,
            "erased_fields": ["name", "email"], "redacted_events": sequence, "email_fingerprint": "",
            "phone_fingerprint": "",
        }  # fmt: skip
        record_hash = scheme_1_hash(prev_hash, values)
        OldRecord.objects.create(
            **{key: value for key, value in values.items() if key not in ("contact_id", "erased_at")},
            erased_at=f"2026-11-0{sequence}T10:00:00Z", prev_hash=prev_hash, hash=record_hash,
        )  # fmt: skip
        prev_hash = record_hash
    checkpoint = ErasureLogVerification(ok=True, records=3, head_hash=prev_hash, full=True, rehashed=3)
    checkpoint.prev_hash = GENESIS
    checkpoint.hash = checkpoint.compute_hash()
    checkpoint.save()

    def upgrade(capsys) -> str:
        capsys.readouterr()
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
        return capsys.readouterr().out

    try:
        yield upgrade
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_old_records_are_blanked_and_the_whole_chain_still_verifies(log_of_the_old_code, capsys):
    upgrade = log_of_the_old_code
    hashes_before = list(ErasureRecord.objects.order_by("sequence").values_list("hash", flat=True))

    printed = upgrade(capsys)

    assert "3 free-text reason(s) blanked" in printed
    records = list(ErasureRecord.objects.order_by("sequence"))
    assert [r.hash for r in records] == hashes_before  # a record's first hash never changes
    assert all(r.reason == "" and r.hash_scheme == 1 and set(r.blanked_digests) == {"reason"} for r in records)
    assert found_in(full_dump(), PERSONAL) == []
    # From the old checkpoint, and from the genesis.
    assert verify() == (0, "OK 3 records\n")
    assert verify("--full") == (0, "OK 3 records\n")

    # A new record follows the old ones through their digests.
    new = erase_on_request(contact=ContactFactory(), requested_by="dpo", requested_by_type="cli", reference="DSR-9")
    assert (new.hash_scheme, new.prev_hash) == (2, records[-1].digest_hash)
    assert verify() == (0, "OK 4 records\n")
    assert verify("--full") == (0, "OK 4 records\n")


@pytest.mark.parametrize(
    "change",
    [
        "redacted_events = 99",
        "erased_fields = '[\"name\"]'",
        "digest_hash = '" + "a" * 64 + "'",
        "reason = 'retention'",  # text put back where a digest was kept
    ],
)
def test_an_old_record_changed_after_the_upgrade_is_named(log_of_the_old_code, capsys, change):
    upgrade = log_of_the_old_code
    upgrade(capsys)
    bypass_erasure_log_guard(f"UPDATE contacts_erasurerecord SET {change} WHERE sequence = 2")  # noqa: S608

    code, message = verify("--full")

    assert code == 1 and "record 2" in message


def test_an_old_record_already_changed_keeps_its_text_as_evidence(log_of_the_old_code, capsys):
    upgrade = log_of_the_old_code
    # Before the upgrade, behind the log's back.
    bypass_erasure_log_guard("UPDATE contacts_erasurerecord SET redacted_events = 0 WHERE sequence = 2")

    printed = upgrade(capsys)

    assert "2 free-text reason(s) blanked" in printed and "1 record(s) no longer match their hash" in printed
    assert ErasureRecord.objects.get(sequence=2).reason == OLD_REASONS[1]
    code, message = verify("--full")
    assert code == 1 and "record 2: its content does not match its hash" in message


@pytest.mark.django_db
class TestBlankingANewRecord:
    """What a blanking leaves must still verify; anything else it could be used for must not."""

    def digest(self, value) -> str:
        return hashlib.sha256(json.dumps(value).encode()).hexdigest()

    def blank(self, sequence: int, field: str, digests: dict) -> None:
        cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        bypass_erasure_log_guard(
            f"UPDATE contacts_erasurerecord SET {field} = '', blanked_digests = {cast} WHERE sequence = %s",  # noqa: S608
            [json.dumps(digests), sequence],
        )

    @pytest.fixture
    def records(self, erase):
        return [erase(reference="DSR-1"), erase(reason="legal_order", reference="LGPD/2026/0042"), erase()]

    def test_a_field_blanked_with_its_digest_still_verifies(self, records):
        self.blank(2, "reference", {"reference": self.digest("LGPD/2026/0042")})
        self.blank(2, "reason", {"reference": self.digest("LGPD/2026/0042"), "reason": self.digest("legal_order")})
        assert verify("--full") == (0, "OK 3 records\n")

    @pytest.mark.parametrize(
        ("field", "digests"),
        [
            ("reference", {"reference": "b" * 64}),  # not the blanked text's digest
            ("reference", {}),  # no digest kept
            ("reference", {"reference": hashlib.sha256(b'"LGPD/2026/0042"').hexdigest(), "redacted_events": "c" * 64}),
        ],
    )
    def test_a_blanking_that_hides_a_change_is_named(self, records, field, digests):
        self.blank(2, field, digests)
        code, message = verify("--full")
        assert code == 1 and "record 2" in message


@pytest.mark.postgres
@pytest.mark.django_db
class TestTheTriggerLetsOnlyBlankingThrough:
    def run(self, sql: str, params=()) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)

    def test_blanking_with_its_digest_recorded_is_allowed_and_still_verifies(self, erase):
        record = erase(reason="legal_order", reference="DSR-42")
        self.run(
            "UPDATE contacts_erasurerecord SET reference = '', blanked_digests = CAST(%s AS jsonb) WHERE id = %s",
            [json.dumps({"reference": record.field_digest("reference")}), record.pk],
        )
        assert ErasureRecord.objects.get().reference == ""
        assert verify("--full") == (0, "OK 1 records\n")

    def test_the_documented_blanking_statement_keeps_the_chain_whole(self, erase):
        erase(reason="legal_order", reference="DSR-42")
        self.run(  # as docs/compliance.md gives it
            "UPDATE contacts_erasurerecord SET reason = '', blanked_digests = blanked_digests || "
            "jsonb_build_object('reason', encode(sha256(convert_to(to_jsonb(reason)::text, 'UTF8')), 'hex')) "
            "WHERE sequence = 1"
        )
        assert ErasureRecord.objects.get().reason == ""
        assert verify("--full") == (0, "OK 1 records\n")

    @pytest.mark.parametrize(
        ("assignments", "params"),
        [
            ("reason = 'retention'", []),
            ("reason = ''", []),  # no digest recorded
            ("reason = '', blanked_digests = CAST(%s AS jsonb)", [json.dumps({"reason": "not a digest"})]),
            (
                "reason = '', redacted_events = 99, blanked_digests = CAST(%s AS jsonb)",
                [json.dumps({"reason": "a" * 64})],
            ),
            ("blanked_digests = CAST(%s AS jsonb)", [json.dumps({"erased_fields": "a" * 64})]),
            ("digest_hash = %s", ["a" * 64]),  # a scheme-2 record has none
            ("hash_scheme = 1", []),
        ],
    )
    def test_every_other_update_is_refused(self, erase, assignments, params):
        record = erase(reason="legal_order", reference="DSR-42")
        with pytest.raises(DatabaseError, match="append-only"):
            self.run(f"UPDATE contacts_erasurerecord SET {assignments} WHERE id = %s", [*params, record.pk])  # noqa: S608
        assert ErasureRecord.objects.get().reason == "legal_order"

    def test_a_blanked_field_cannot_be_written_again_nor_its_digest_changed(self, erase):
        record = erase(reason="legal_order", reference="DSR-42")
        digests = {"reference": record.field_digest("reference")}
        self.run(
            "UPDATE contacts_erasurerecord SET reference = '', blanked_digests = CAST(%s AS jsonb) WHERE id = %s",
            [json.dumps(digests), record.pk],
        )
        for assignments, params in [
            ("reference = 'DSR-43'", []),
            ("blanked_digests = CAST(%s AS jsonb)", [json.dumps({"reference": "b" * 64})]),
            ("blanked_digests = '{}'::jsonb", []),
        ]:
            with pytest.raises(DatabaseError, match="append-only"):
                self.run(f"UPDATE contacts_erasurerecord SET {assignments} WHERE id = %s", [*params, record.pk])  # noqa: S608
