"""The data-subject request desk: corrections looked up at the provider, erasure from a request, erased
contacts, the register's own retention, and the API."""

import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.models import DataSubjectExport, DataSubjectRequest, ErasureRecord
from contacts.requests import (
    erase_from_request,
    prune_data_subject_requests,
    subject_export,
    subject_export_json,
)
from contacts.services.erasure_log import verify_erasure_log
from tests.contacts.data_subjects import Kind, Status, new_request
from tests.factories import ContactFactory, UserFactory
from webhooks.events import ContactSnapshot

pytestmark = pytest.mark.django_db


class TestCorrection:
    def test_a_correction_made_at_the_provider_is_looked_up_from_the_request(
        self, client, auditor, fake_fetcher, django_capture_on_commit_callbacks
    ):
        contact = ContactFactory(provider="fpt", account_id="loc_1", external_id="c_1", name="Ana Cost")
        fake_fetcher.states[("fpt", "loc_1", "c_1")] = ContactSnapshot(
            as_of=timezone.now(), fields={"name": "Ana Costa"}
        )
        request = new_request(contact, kind=Kind.CORRECTION)
        page = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/").content.decode()
        assert 'id="dsr-look-up"' in page and 'id="dsr-look-up-form"' in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/admin/contacts/datasubjectrequest/{request.pk}/look-up/")
        assert response.status_code == 302
        contact.refresh_from_db()
        assert contact.name == "Ana Costa" and fake_fetcher.calls == [("fpt", "loc_1", "c_1")]

    def test_no_look_up_without_a_fetcher_or_for_another_kind(self, client, auditor):
        contact = ContactFactory()
        for kind in (Kind.CORRECTION, Kind.ACCESS):
            request = new_request(contact, kind=kind)
            page = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/").content.decode()
            assert 'id="dsr-look-up"' not in page
        assert client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/look-up/").status_code == 403


class TestErasureFromRequest:
    def test_one_hash_chained_record_per_contact_linked_from_the_request(self, client, auditor, person_and_neighbours):
        person, homonym, _ = person_and_neighbours
        request = new_request(person, kind=Kind.ERASURE, reference="TICKET-77")
        confirmation = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/erase/")
        page = confirmation.content.decode()
        assert confirmation.status_code == 200 and "<code>TICKET-77</code>" in page
        # The reason is chosen from the codes staff may give, a data-subject request first.
        assert '<option value="data_subject_request" selected>' in page and 'value="legal_order"' in page
        assert 'value="provider_deletion"' not in page
        erase_url = f"/admin/contacts/datasubjectrequest/{request.pk}/erase/"
        assert client.post(erase_url, {"reason": "consent_withdrawn"}).status_code == 302
        record = ErasureRecord.objects.get()
        assert record.contact == person and (record.reason, record.reference) == ("consent_withdrawn", "TICKET-77")
        assert record.requested_by == auditor.username and record.redacted_events == 2
        assert list(request.erasures.all()) == [record]
        person.refresh_from_db()
        homonym.refresh_from_db()
        assert person.is_erased and not person.personal_fields_held() and homonym.name == "Ana Costa"
        assert verify_erasure_log().ok
        # Exported afterwards: the events are listed, their redacted payloads are not (nothing is rebuilt).
        document = subject_export(person)
        assert document["erased"] and [e["payload"] for e in document["events"]] == [None, None]
        assert all(event["redacted_at"] for event in document["events"])
        assert "Ana" not in subject_export_json(document)

    def test_an_already_erased_contact_is_linked_not_erased_again(self, erase):
        contact = ContactFactory()
        earlier = erase(contact)
        request = new_request(contact, kind=Kind.ERASURE)
        created, existing = erase_from_request(request=request, user=None)
        assert (created, existing) == ([], [earlier])
        assert ErasureRecord.objects.count() == 1 and list(request.erasures.all()) == [earlier]

    def test_a_request_without_a_ticket_id_is_referenced_by_its_number(self, client, auditor):
        contact = ContactFactory(name="Subject Data")
        request = new_request(contact, kind=Kind.ERASURE)
        response = client.post(f"/admin/contacts/datasubjectrequest/{request.pk}/erase/")
        assert response.status_code == 302
        record = ErasureRecord.objects.get()
        assert (record.reason, record.reference) == ("data_subject_request", f"DSR-{request.pk}")

    def test_a_reference_stored_before_the_rule_never_reaches_the_log(self, erase):
        contact = ContactFactory(name="Ana Costa")
        request = new_request(contact, kind=Kind.ERASURE, reference="Ana Costa ligou, CPF 123.456.789-09")
        created, _existing = erase_from_request(request=request, user=None)
        assert [record.reference for record in created] == [f"DSR-{request.pk}"]

    def test_a_reason_outside_the_staff_codes_erases_nothing(self, client, auditor):
        contact = ContactFactory()
        request = new_request(contact, kind=Kind.ERASURE)
        for reason in ("provider_deletion", "Ana Costa asked by phone"):
            response = client.post(f"/admin/contacts/datasubjectrequest/{request.pk}/erase/", {"reason": reason})
            assert response.status_code == 200 and response.context["reason_form"].errors["reason"]
        contact.refresh_from_db()
        assert not contact.is_erased and not ErasureRecord.objects.exists()

    def test_only_an_open_erasure_request_erases(self, client, auditor):
        contact = ContactFactory()
        request = new_request(contact, kind=Kind.ACCESS)
        assert client.post(f"/admin/contacts/datasubjectrequest/{request.pk}/erase/").status_code == 302
        assert not ErasureRecord.objects.exists()

    def test_the_desk_says_a_contact_is_erased_and_shows_its_record(self, client, auditor, erase):
        contact = ContactFactory(name="Carla Dias")
        record = erase(contact)
        request = new_request(contact)
        page = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/").content.decode()
        assert "was erased on" in page and f"/admin/contacts/erasurerecord/{record.pk}/change/" in page
        assert "Carla" not in page
        contact.refresh_from_db()
        document = subject_export(contact)
        assert document["erased"] is True and document["erasures"][0]["sequence"] == record.sequence
        assert all(value in ("", None, [], {}) for value in document["fields"].values())

    def test_the_desk_reads_its_times_day_first_in_local_time_for_a_brazilian_reader(self, client, auditor, erase):
        contact = ContactFactory(name="Carla Dias")
        record = erase(contact)
        # 02:30 UTC on the 1st is 23:30 on 30/11 in São Paulo: the day shown is the local one.
        received = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
        request = new_request(contact, received_at=received, due_at=received)
        DataSubjectRequest.objects.filter(pk=request.pk).update(received_at=received, due_at=received)

        page = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/",
                          headers={"accept-language": "pt-BR"}).content.decode()  # fmt: skip

        desk = page.split('id="dsr-desk"')[1].split("</fieldset>")[0]
        assert "30/11/2026 23:30" in desk.split('id="dsr-overdue"')[1].split("</p>")[0]
        erased = timezone.localtime(record.erased_at, ZoneInfo("America/Sao_Paulo"))
        assert f"{erased:%d/%m/%Y %H:%M}" in desk
        assert not re.search(r"\d{4}-\d\d-\d\d", desk)
        assert page.count('id="crm-time-zone"') == 1

    def test_an_erasure_leaves_the_persons_requests_holding_nothing_personal(self, erase):
        contact = ContactFactory()
        refused = new_request(
            contact, status=Status.REFUSED, closed_at=timezone.now(), refusal_reason="lives at rua das flores 12"
        )
        erase(contact)
        refused.refresh_from_db()
        assert refused.refusal_reason == "[erased]" and list(refused.contacts.all()) == [contact]


class TestRetention:
    def test_prunes_closed_requests_past_retention_keeping_kind_dates_outcome_and_erasure(self, erase):
        now = timezone.now()
        contact = ContactFactory()
        record = erase(contact)
        old = new_request(contact, kind=Kind.ERASURE, reference="T-1", received_at=now - timedelta(days=2000),
                          status=Status.ANSWERED, closed_at=now - timedelta(days=1900),
                          handled_by=UserFactory())  # fmt: skip
        old.erasures.add(record)
        DataSubjectExport.objects.create(request=old, contact=contact, format="json", exported_by=old.handled_by)
        recent = new_request(contact, reference="T-2", status=Status.ANSWERED, closed_at=now - timedelta(days=10))
        still_open = new_request(contact, reference="T-3", received_at=now - timedelta(days=3000))

        out = StringIO()
        with override_settings(DSR_RETENTION_DAYS=1826):
            call_command("prune_data_subject_requests", stdout=out)
        assert "Cleared 1" in out.getvalue()
        old.refresh_from_db()
        assert old.anonymized_at is not None and (old.reference, old.handled_by) == ("", None)
        assert not old.contacts.exists() and list(old.erasures.all()) == [record]
        assert (old.kind, old.status, old.closed_at is not None) == (Kind.ERASURE, Status.ANSWERED, True)
        assert DataSubjectExport.objects.get(request=old).contact is None
        for kept in (recent, still_open):
            kept.refresh_from_db()
            assert kept.anonymized_at is None and kept.contacts.exists() and kept.reference
        assert prune_data_subject_requests(older_than_days=1826)[1] == 0

    def test_command_refuses_negative_days(self):
        with pytest.raises(CommandError):
            call_command("prune_data_subject_requests", "--days", "-1", stdout=StringIO())


class TestApi:
    def api(self, *codenames):
        user = UserFactory()
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        client = APIClient()
        client.force_authenticate(user)
        return client

    def test_lists_the_register_filtered_by_status_and_due_date(self, erase):
        now = timezone.now()
        contact = ContactFactory()
        late = new_request(contact, received_at=now - timedelta(days=20), reference="T-9")
        new_request(received_at=now)
        answered = new_request(
            kind=Kind.ERASURE, received_at=now - timedelta(days=30), status=Status.ANSWERED, closed_at=now
        )
        answered.erasures.add(erase(contact))
        client = self.api("view_datasubjectrequest")
        response = client.get("/api/data-subject-requests/", {"status": "open", "due_before": now.isoformat()})
        assert response.status_code == 200, response.content
        rows = response.json()["results"]
        assert [row["id"] for row in rows] == [late.pk]
        assert rows[0]["contacts"] == [contact.pk] and rows[0]["reference"] == "T-9" and rows[0]["status"] == "open"
        everything = client.get("/api/data-subject-requests/").json()["results"]
        assert len(everything) == 3 and next(r for r in everything if r["id"] == answered.pk)["erasures"] == [1]
        assert client.post("/api/data-subject-requests/", {"kind": "access"}).status_code in (403, 405)
        assert client.get("/api/data-subject-requests/", {"status": "nonsense"}).status_code == 400

    def test_needs_the_registers_view_permission(self):
        new_request()
        assert self.api("view_contact").get("/api/data-subject-requests/").status_code == 403
