"""The erasure log: append-only, hash-chained, one chain under concurrency, verifiable, free of personal data."""

import hashlib
import io
import json
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from contacts.models import ErasureLogVerification, ErasureRecord
from contacts.services import erase_on_request
from tests.conftest import bypass_erasure_log_guard
from tests.database_dump import found_in
from tests.factories import ContactFactory


def verify() -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_erasure_log", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, err.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
class TestHashChain:
    def test_each_hash_is_sha256_of_the_previous_hash_and_the_digests_of_the_fields(self, erase):
        first, second = erase(), erase(reason="legal_order", reference="LGPD/2026/0042")
        assert first.prev_hash == "0" * 64 and first.sequence == 1
        assert (second.sequence, second.prev_hash) == (2, first.hash)
        for record in (first, second):
            stored = ErasureRecord.objects.get(pk=record.pk)
            assert stored.hash_scheme == 2 and stored.blanked_digests == {} and stored.digest_hash == ""

            def digest(value):
                text = json.dumps(value, sort_keys=True, separators=(",", ":"))
                return hashlib.sha256(text.encode()).hexdigest()

            values = json.loads(stored.canonical_json()) | {"reference": stored.reference}
            assert set(values) == set(ErasureRecord.DIGESTED_FIELDS) and values["sequence"] == stored.sequence
            digests = {name: digest(value) for name, value in values.items()}
            canonical = json.dumps({"fields": digests, "hash_scheme": 2}, sort_keys=True, separators=(",", ":"))
            assert stored.hash == hashlib.sha256((stored.prev_hash + canonical).encode()).hexdigest()
        assert (second.reason, second.reference) == ("legal_order", "LGPD/2026/0042")

    def test_the_record_holds_ids_and_field_names_but_no_personal_data(self, erase, settings):
        settings.ERASURE_FINGERPRINT_KEY = "kept-outside-the-database"
        contact = ContactFactory(
            name="Marta Quitéria Souza", phone="+5547991112233", email="marta.qs@exemplo.com.br",
            tags=["vip-marta"], custom_fields={"cpf": "987.654.321-00"}, notes="ligar cedo",
        )  # fmt: skip
        record = erase(contact)
        text = json.dumps([str(v) for v in ErasureRecord.objects.filter(pk=record.pk).values().get().values()])
        personal = ["Marta Quitéria Souza", "+5547991112233", "5547991112233", "marta.qs@exemplo.com.br", "vip-marta",
                    "987.654.321-00", "ligar cedo"]  # fmt: skip
        assert found_in(text, personal) == []
        assert record.external_id == contact.external_id
        assert {"name", "phone", "email", "tags", "custom_fields", "notes"} <= set(record.erased_fields)
        # Fingerprints are keyed: not the plain SHA-256 anyone could compute from a guess.
        assert (
            record.email_fingerprint
            and record.email_fingerprint != hashlib.sha256(b"marta.qs@exemplo.com.br").hexdigest()
        )


@pytest.mark.django_db
class TestAppendOnly:
    def test_the_model_refuses_to_save_an_existing_record_or_delete_one(self, erase):
        record = erase()
        record.reason = "rewritten"
        with pytest.raises(PermissionDenied):
            record.save()
        with pytest.raises(PermissionDenied):
            record.delete()
        with pytest.raises(PermissionDenied):
            ErasureRecord.objects.filter(pk=record.pk).update(reference="DSR-1")
        with pytest.raises(PermissionDenied):
            ErasureRecord.objects.all().delete()
        with pytest.raises(PermissionDenied):
            ErasureRecord.objects.bulk_update([record], ["reason"])
        assert ErasureRecord.objects.get().reason == "data_subject_request"

    @pytest.mark.postgres
    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE contacts_erasurerecord SET reason = 'rewritten'",
            "DELETE FROM contacts_erasurerecord",
            "TRUNCATE contacts_erasurerecord CASCADE",
        ],
    )
    def test_postgresql_itself_refuses_update_delete_and_truncate(self, erase, sql):
        erase()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the pending FK checks TRUNCATE would wait on
            cursor.execute(sql)
        assert ErasureRecord.objects.get().reason == "data_subject_request"


@pytest.mark.django_db
class TestVerifyErasureLog:
    def test_an_intact_log_verifies_and_the_run_is_recorded(self, erase):
        for _ in range(3):
            erase()
        assert verify() == (0, "OK 3 records\n")
        run = ErasureLogVerification.objects.latest()
        assert (run.ok, run.records, run.first_broken_sequence) == (True, 3, None)
        assert run.head_hash == ErasureRecord.objects.get(sequence=3).hash
        erase()  # appending after a verification is what the log is for
        assert verify() == (0, "OK 4 records\n")

    def test_an_empty_log_verifies(self):
        assert verify() == (0, "OK 0 records\n")

    def test_a_record_changed_behind_the_guards_is_named(self, erase):
        for _ in range(3):
            erase()
        bypass_erasure_log_guard("UPDATE contacts_erasurerecord SET redacted_events = 99 WHERE sequence = 2")
        code, message = verify()
        assert code == 1
        assert "record 2" in message and "does not match its hash" in message
        run = ErasureLogVerification.objects.latest()
        assert (run.ok, run.first_broken_sequence) == (False, 2)

    def test_a_record_rehashed_after_a_change_breaks_the_next_link(self, erase):
        for _ in range(3):
            erase()
        record = ErasureRecord.objects.get(sequence=2)
        record.reason = "something else"
        bypass_erasure_log_guard(
            "UPDATE contacts_erasurerecord SET reason = %s, hash = %s WHERE sequence = 2",
            [record.reason, record.compute_hash()],
        )
        code, message = verify()
        assert code == 1 and "record 3: prev_hash" in message

    def test_a_deleted_record_in_the_middle_is_named(self, erase):
        for _ in range(3):
            erase()
        bypass_erasure_log_guard("DELETE FROM contacts_erasurerecord WHERE sequence = 2")
        code, message = verify()
        assert code == 1 and "record 3: expected sequence 2" in message

    def test_the_newest_records_deleted_after_a_verification_are_caught(self, erase):
        for _ in range(3):
            erase()
        assert verify()[0] == 0
        bypass_erasure_log_guard("DELETE FROM contacts_erasurerecord WHERE sequence = 3")
        code, message = verify()
        assert code == 1 and "record 3 verified on" in message
        assert ErasureLogVerification.objects.latest().first_broken_sequence == 3

    @pytest.mark.postgres
    def test_a_change_made_with_the_trigger_disabled_is_named(self, erase):
        for _ in range(2):
            erase()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE contacts_erasurerecord DISABLE TRIGGER erasure_log_refuse_update_delete")
            cursor.execute("UPDATE contacts_erasurerecord SET requested_by = 'someone-else' WHERE sequence = 1")
            cursor.execute("ALTER TABLE contacts_erasurerecord ENABLE TRIGGER erasure_log_refuse_update_delete")
        code, message = verify()
        assert code == 1 and "record 1" in message


@pytest.mark.postgres
def test_concurrent_erasures_append_to_one_chain_without_forks(erasure_log_cleanup):
    contacts = [ContactFactory() for _ in range(8)]
    start = threading.Barrier(len(contacts))
    errors = []

    def erase_one(contact):
        try:
            start.wait()
            erase_on_request(contact=contact, requested_by="usr_1", requested_by_type="attendant", reference="DSR-1")
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=erase_one, args=(contact,)) for contact in contacts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    records = list(ErasureRecord.objects.order_by("sequence"))
    assert [r.sequence for r in records] == list(range(1, len(contacts) + 1))
    assert [r.prev_hash for r in records] == ["0" * 64] + [r.hash for r in records[:-1]]
    assert {r.contact_id for r in records} == {c.pk for c in contacts}
    assert verify() == (0, f"OK {len(contacts)} records\n")


def verify_full() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_erasure_log", "--full", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db
class TestCheckpoints:
    """A default run starts from the last successful run; ``--full`` re-hashes everything."""

    def test_a_default_run_rehashes_only_what_came_after_the_checkpoint_but_counts_the_whole_chain(self, erase):
        for _ in range(3):
            erase()
        assert verify() == (0, "OK 3 records\n")
        first = ErasureLogVerification.objects.latest()
        assert (first.full, first.rehashed) == (True, 3)  # no checkpoint yet: everything
        erase(), erase()
        assert verify() == (0, "OK 5 records\n")
        second = ErasureLogVerification.objects.latest()
        assert (second.full, second.rehashed, second.records) == (False, 2, 5)
        assert verify() == (0, "OK 5 records\n")
        assert ErasureLogVerification.objects.latest().rehashed == 0
        assert verify_full()[:2] == (0, "OK 5 records\n")
        assert (ErasureLogVerification.objects.latest().full, ErasureLogVerification.objects.latest().rehashed) == (
            True,
            5,
        )

    def test_the_runs_are_chained_like_the_log(self, erase):
        erase()
        for _ in range(3):
            verify()
        runs = list(ErasureLogVerification.objects.order_by("id"))
        assert [run.prev_hash for run in runs] == ["0" * 64] + [run.hash for run in runs[:-1]]
        assert all(run.hash == run.compute_hash() for run in runs)

    def test_tampering_after_the_checkpoint_is_caught_by_a_default_run(self, erase):
        for _ in range(3):
            erase()
        assert verify()[0] == 0
        erase(), erase()
        bypass_erasure_log_guard("UPDATE contacts_erasurerecord SET redacted_events = 99 WHERE sequence = 4")
        code, message = verify()
        assert code == 1 and "record 4" in message and "does not match its hash" in message
        assert ErasureLogVerification.objects.latest().first_broken_sequence == 4

    def test_tampering_before_the_checkpoint_is_caught_by_full_only(self, erase):
        for _ in range(3):
            erase()
        assert verify()[0] == 0
        bypass_erasure_log_guard("UPDATE contacts_erasurerecord SET redacted_events = 99 WHERE sequence = 2")
        assert verify() == (0, "OK 3 records\n")  # proven records are not re-hashed by default
        code, _out, err = verify_full()
        assert code == 1 and "record 2" in err and "does not match its hash" in err

    def test_a_record_before_the_checkpoint_rehashed_up_to_it_is_caught_by_a_default_run(self, erase):
        for _ in range(3):
            erase()
        assert verify()[0] == 0
        # A careful forger re-hashes every record from the one changed to the head: the checkpoint's hash moves.
        previous = ErasureRecord.objects.get(sequence=1).hash
        for record in ErasureRecord.objects.filter(sequence__gte=2).order_by("sequence"):
            if record.sequence == 2:
                record.reason = "rewritten"
            record.prev_hash = previous
            record.hash = previous = record.compute_hash()
            bypass_erasure_log_guard(
                "UPDATE contacts_erasurerecord SET reason = %s, prev_hash = %s, hash = %s WHERE sequence = %s",
                [record.reason, record.prev_hash, record.hash, record.sequence],
            )
        code, message = verify()
        assert code == 1 and "record 3 verified on" in message and "rewritten" in message

    def test_a_record_deleted_before_the_checkpoint_is_caught_by_a_default_run(self, erase):
        for _ in range(4):
            erase()
        assert verify()[0] == 0
        bypass_erasure_log_guard("DELETE FROM contacts_erasurerecord WHERE sequence = 2")
        code, message = verify()
        assert code == 1 and "1 record(s) before record 4 are missing" in message

    def test_a_checkpoint_rewritten_to_skip_a_forgery_is_refused(self, erase):
        for _ in range(3):
            erase()
        assert verify()[0] == 0
        erase()
        bypass_erasure_log_guard("UPDATE contacts_erasurerecord SET redacted_events = 99 WHERE sequence = 4")
        forged = ErasureRecord.objects.get(sequence=4)
        # Move the checkpoint past the forged record without re-chaining the runs.
        ErasureLogVerification.objects.filter(pk=ErasureLogVerification.objects.latest().pk).update(
            records=4, head_hash=forged.hash
        )
        code, message = verify()
        assert code == 1 and "was altered after it was recorded" in message
        assert verify_full()[0] == 1

    def test_a_full_run_shows_progress_as_plain_lines_when_not_on_a_terminal(self, erase):
        for _ in range(3):
            erase()
        code, out, err = verify_full()
        assert (code, out) == (0, "OK 3 records\n")
        lines = err.splitlines()
        assert "\r" not in err and lines[-1].startswith("verifying: 3/3 records")
        assert "records/s" in lines[-1]

    @pytest.mark.postgres
    def test_on_postgresql_a_change_with_the_trigger_disabled_after_the_checkpoint_is_caught(self, erase):
        for _ in range(2):
            erase()
        assert verify()[0] == 0
        erase()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE contacts_erasurerecord DISABLE TRIGGER erasure_log_refuse_update_delete")
            cursor.execute("UPDATE contacts_erasurerecord SET requested_by = 'someone-else' WHERE sequence = 3")
            cursor.execute("UPDATE contacts_erasurerecord SET requested_by = 'someone-else' WHERE sequence = 1")
            cursor.execute("ALTER TABLE contacts_erasurerecord ENABLE TRIGGER erasure_log_refuse_update_delete")
        code, message = verify()
        assert code == 1 and "record 3" in message
        code, _out, err = verify_full()
        assert code == 1 and "record 1:" in err
