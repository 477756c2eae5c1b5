"""The data-subject request desk: the register, deadlines, the person's export, erasure from a request,
erased contacts, and the register's own retention."""

import json
import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.models import ContactAccess, DataSubjectExport, DataSubjectRequest, ErasureRecord
from contacts.permissions import COMPLIANCE_GROUP
from contacts.requests import (
    desk_counts,
    erase_from_request,
    prune_data_subject_requests,
    subject_export,
    subject_export_json,
)
from contacts.services.erasure_log import verify_erasure_log
from tests.conftest import fixture_with_data
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory
from webhooks.events import ContactSnapshot

pytestmark = pytest.mark.django_db
Kind, Status = DataSubjectRequest.Kind, DataSubjectRequest.Status


def timely_body(contact, **data) -> bytes:
    payload = fixture_with_data("timely", "contact.created", contact_id=contact.external_id, **data)
    payload["workspace_id"] = contact.account_id
    return json.dumps(payload).encode()


def event_about(contact, **data):
    return WebhookEventFactory(
        provider=contact.provider,
        account_id=contact.account_id,
        external_id=contact.external_id,
        body=timely_body(contact, **data),
        occurred_at=timezone.now() - timedelta(days=2),
    )


def new_request(*contacts, kind=Kind.ACCESS, **values):
    request = DataSubjectRequest.objects.create(kind=kind, **values)
    request.contacts.set(contacts)
    return request


@pytest.fixture
def person_and_neighbours():
    """The person, a homonym in another account, and a colleague sharing the person's account; each with
    payloads of their own."""
    person = ContactFactory(
        name="Ana Costa", email="ana.costa@exemplo.com.br", phone="+5547991234567", notes="prefers mornings"
    )
    homonym = ContactFactory(
        name="Ana Costa", account_id="ws_other", email="ana.c@outro.com.br", phone="+5511988887777", notes="VIP"
    )
    colleague = ContactFactory(
        name="Bruno Lima", account_id=person.account_id, email="bruno@exemplo.com.br", phone="+5547990001111"
    )
    event_about(person, name=person.name, email=person.email, phone=person.phone)
    event_about(person, name=person.name, tags=["lead"])
    event_about(homonym, name=homonym.name, email=homonym.email, phone=homonym.phone)
    event_about(colleague, name=colleague.name, email=colleague.email, phone=colleague.phone)
    return person, homonym, colleague


class TestRegister:
    def test_due_at_defaults_to_the_configured_deadline(self):
        received = timezone.now() - timedelta(days=1)
        with override_settings(DSR_DEADLINE_DAYS=15):
            request = DataSubjectRequest.objects.create(kind=Kind.ACCESS, received_at=received)
        assert request.due_at == received + timedelta(days=15)
        with override_settings(DSR_DEADLINE_DAYS=5):
            other = DataSubjectRequest.objects.create(kind=Kind.ACCESS, received_at=received)
        assert other.due_at == received + timedelta(days=5)

    def test_compliance_opens_a_request_for_contacts_and_closing_records_who_and_when(self, client, auditor):
        contact = ContactFactory()
        response = client.post("/admin/contacts/datasubjectrequest/add/", {
            "kind": "access", "received_at_0": "2026-11-20", "received_at_1": "10:00:00", "due_at_0": "",
            "due_at_1": "", "reference": "TICKET-881", "contacts": [contact.pk], "status": "open",
            "refusal_reason": "",
        })  # fmt: skip
        assert response.status_code == 302, response.content
        request = DataSubjectRequest.objects.get()
        assert list(request.contacts.all()) == [contact]
        assert request.due_at - request.received_at == timedelta(days=15)
        assert request.closed_at is None and request.handled_by == auditor

        response = client.post(f"/admin/contacts/datasubjectrequest/{request.pk}/change/", {
            "kind": "access", "received_at_0": "2026-11-20", "received_at_1": "10:00:00",
            "due_at_0": "2026-12-05", "due_at_1": "10:00:00", "reference": "TICKET-881", "contacts": [contact.pk],
            "status": "answered", "refusal_reason": "",
        })  # fmt: skip
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.status == Status.ANSWERED and request.closed_at is not None
        assert request.handled_by == auditor

    @pytest.mark.parametrize(
        ("field", "text", "error"),
        [
            # The reference reaches the erasure log: a ticket id or nothing, whatever the text holds.
            ("reference", "Ana Costa called", "Only a ticket id"),
            ("reference", "ana.costa@exemplo.com.br", "Only a ticket id"),
            ("reference", "Ana Costa Ribeiro", "Only a ticket id"),
            ("reference", "CPF-123.456.789-09", "Only a ticket id"),
            ("reference", "TEL-47-991234567", "Only a ticket id"),
            # The refusal reason stays on the request, and an erasure of the person blanks it.
            ("refusal_reason", "47 99123-4567", "quotes the contact"),
        ],
    )
    def test_free_text_that_could_describe_the_person_is_refused(self, client, auditor, field, text, error):
        contact = ContactFactory(name="Ana Costa", email="ana.costa@exemplo.com.br", phone="+5547991234567")
        values = {"kind": "access", "received_at_0": "2026-11-20", "received_at_1": "10:00:00", "due_at_0": "",
                  "due_at_1": "", "reference": "TK-1", "contacts": [contact.pk], "status": "refused",
                  "refusal_reason": "identity not confirmed", field: text}  # fmt: skip
        response = client.post("/admin/contacts/datasubjectrequest/add/", values)
        assert response.status_code == 200
        assert error in response.context["adminform"].form.errors[field][0]
        assert not DataSubjectRequest.objects.exists()

    def test_refusing_needs_a_reason(self, client, auditor):
        response = client.post("/admin/contacts/datasubjectrequest/add/", {
            "kind": "erasure", "received_at_0": "2026-11-20", "received_at_1": "10:00:00", "due_at_0": "",
            "due_at_1": "", "reference": "", "status": "refused", "refusal_reason": "",
        })  # fmt: skip
        assert response.status_code == 200
        assert "refusal_reason" in response.context["adminform"].form.errors

    def test_overdue_and_due_soon_filters_and_dashboard_panel(self, client, auditor):
        now = timezone.now()
        late = new_request(received_at=now - timedelta(days=20))
        soon = new_request(received_at=now - timedelta(days=14))
        later = new_request(received_at=now)
        closed_late = new_request(
            received_at=now - timedelta(days=30), status=Status.ANSWERED, closed_at=now - timedelta(days=1)
        )
        listing = client.get("/admin/contacts/datasubjectrequest/?deadline=overdue")
        assert [r.pk for r in listing.context["cl"].result_list] == [late.pk]
        listing = client.get("/admin/contacts/datasubjectrequest/?deadline=due_soon")
        assert [r.pk for r in listing.context["cl"].result_list] == [soon.pk]
        counts = desk_counts(now=now)
        assert (counts["open"], counts["overdue"], counts["due_soon"]) == (3, 1, 1)
        assert [r.pk for r in counts["urgent"]] == [late.pk, soon.pk]
        home = client.get("/admin/")
        panel = home.content.decode().split('id="dashboard-requests"')[1]
        assert "1 overdue" in panel and f"#{late.pk}" in panel and f"#{later.pk}" not in panel
        assert f"#{closed_late.pk}" not in panel

    def test_the_request_page_reads_no_payload_and_its_queries_do_not_grow_with_events(self, client, auditor):
        contact = ContactFactory()
        request = new_request(contact)
        event_about(contact)

        def page_queries():
            with CaptureQueriesContext(connection) as captured:
                assert client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/").status_code == 200
            return [query["sql"] for query in captured.captured_queries]

        page_queries()  # the session's first request does its own writes
        few = page_queries()
        for _ in range(5):
            event_about(contact)
        many = page_queries()
        assert len(many) == len(few)
        assert not [sql for sql in many if '"webhooks_webhookevent"."body"' in sql]

    def test_the_contact_search_tells_homonyms_apart_and_is_in_the_access_trail(self, client, auditor):
        first = ContactFactory(name="Ana Costa", external_id="cont_1")
        second = ContactFactory(name="Ana Costa", account_id="ws_other", external_id="cont_2")
        ContactFactory(name="Bruno Lima")
        search = {"app_label": "contacts", "model_name": "datasubjectrequest", "field_name": "contacts"}
        response = client.get("/admin/autocomplete/", {"term": "ana costa", **search})
        assert response.status_code == 200
        labels = {row["id"]: row["text"] for row in response.json()["results"]}
        assert labels == {
            str(first.pk): f"Ana Costa — #{first.pk} timely / ws_abc123 / cont_1",
            str(second.pk): f"Ana Costa — #{second.pk} timely / ws_other / cont_2",
        }
        trail = ContactAccess.objects.filter(kind=ContactAccess.Kind.CONTACT_SEARCH).order_by("contact_id")
        assert [(row.user, row.contact_id, row.rows, row.filters["term"]) for row in trail] == [
            (auditor, first.pk, 2, "[not kept]"),
            (auditor, second.pk, 2, "[not kept]"),
        ]

    def test_sales_staff_see_nothing_of_the_desk(self, client):
        sales = UserFactory(is_staff=True)
        sales.user_permissions.add(
            *Group.objects.get(name=COMPLIANCE_GROUP).permissions.filter(codename="view_contact")
        )
        client.force_login(sales)
        request = new_request(ContactFactory())
        assert client.get("/admin/contacts/datasubjectrequest/").status_code == 403
        assert client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/").status_code == 403
        contact = request.contacts.get()
        assert (
            client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{contact.pk}/json/").status_code == 403
        )
        assert 'id="dashboard-requests"' not in client.get("/admin/").content.decode()


class TestExport:
    def test_holds_the_persons_fields_notes_and_payloads_and_nothing_of_anyone_else(self, person_and_neighbours):
        person, homonym, colleague = person_and_neighbours
        document = subject_export(person)
        assert document["contact"]["id"] == person.pk
        assert document["fields"]["email"] == person.email and document["fields"]["phone"] == person.phone
        assert document["notes"] == {"notes": "prefers mornings"}
        assert len(document["events"]) == 2
        assert all(event["payload"]["data"]["contact_id"] == person.external_id for event in document["events"])
        assert all(event["received_at"] is not None for event in document["events"])
        text = json.dumps(document, default=str)
        for other in (homonym, colleague):
            for value in (other.email, other.phone, other.external_id, other.notes or "VIP"):
                assert value not in text
        assert "Bruno" not in text

    def test_one_click_json_is_recorded_on_the_request_and_in_the_access_trail(
        self, client, auditor, person_and_neighbours
    ):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        response = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{person.pk}/json/")
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
        assert "attachment" in response["Content-Disposition"]
        document = json.loads(response.content)
        assert document["request"]["id"] == request.pk and document["fields"]["name"] == "Ana Costa"
        assert homonym.email not in response.content.decode()
        export = DataSubjectExport.objects.get()
        assert (export.request, export.contact, export.format, export.exported_by) == (
            request,
            person,
            "json",
            auditor,
        )
        trail = ContactAccess.objects.get(kind=ContactAccess.Kind.DATA_SUBJECT_EXPORT)
        assert (trail.user, trail.contact_id) == (auditor, person.pk)

    def test_printable_page_shows_the_data_and_payloads(self, client, auditor, person_and_neighbours):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        response = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{person.pk}/html/")
        page = response.content.decode()
        assert response.status_code == 200 and "prefers mornings" in page and person.email in page
        assert page.count('class="event"') == 2 and "window.print()" in page
        assert homonym.email not in page and "VIP" not in page
        assert DataSubjectExport.objects.get().format == "html"

    def test_only_a_contact_the_request_concerns_is_exported(self, client, auditor, person_and_neighbours):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        response = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{homonym.pk}/json/")
        assert response.status_code == 404
        assert client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{person.pk}/xml/").status_code == 404
        assert not DataSubjectExport.objects.exists() and not ContactAccess.objects.filter(kind="data_subject_export")

    def test_exporting_is_its_own_permission(self, client):
        viewer = UserFactory(is_staff=True)
        viewer.user_permissions.add(
            *Group.objects.get(name=COMPLIANCE_GROUP).permissions.filter(
                codename__in=["view_datasubjectrequest", "view_contact"]
            )
        )
        client.force_login(viewer)
        contact = ContactFactory()
        request = new_request(contact)
        page = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/")
        assert page.status_code == 200 and "dsr-export-json" not in page.content.decode()
        assert (
            client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{contact.pk}/json/").status_code == 403
        )
        assert not DataSubjectExport.objects.exists()

    def test_command_writes_the_same_json_and_records_it(self, person_and_neighbours):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        out = StringIO()
        call_command(
            "dsr_export", "--contact", str(person.pk), "--format", "json", "--request", str(request.pk), stdout=out
        )
        document = json.loads(out.getvalue())
        expected = json.loads(subject_export_json(subject_export(person, request=request)))
        document.pop("generated_at"), expected.pop("generated_at")
        assert document == expected and document["request"]["id"] == request.pk
        assert homonym.email not in out.getvalue()
        export = DataSubjectExport.objects.get()
        assert export.exported_by is None and export.contact == person
        assert ContactAccess.objects.get(kind="data_subject_export").user is None

    def test_command_refuses_unknown_ids_and_a_request_about_someone_else(self, person_and_neighbours):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        with pytest.raises(CommandError, match="no contact"):
            call_command("dsr_export", "--contact", "999999", stdout=StringIO())
        with pytest.raises(CommandError, match="not concerned"):
            call_command("dsr_export", "--contact", str(homonym.pk), "--request", str(request.pk), stdout=StringIO())
        with pytest.raises(CommandError, match="no data-subject request"):
            call_command("dsr_export", "--contact", str(person.pk), "--request", "999999", stdout=StringIO())
        assert not ContactAccess.objects.exists()


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
