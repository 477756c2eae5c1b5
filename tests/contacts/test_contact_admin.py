"""Contacts admin: FPT status and sub-group filters, and "refresh now" when a fetcher exists."""

from datetime import timedelta

import pytest

from contacts.models import Contact
from tests.contacts.fpt_events import BASE_TIME
from tests.factories import ContactFactory, UserFactory
from webhooks.events import ContactSnapshot

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/contacts/contact/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def fpt_contact(external_id, **values):
    return ContactFactory(provider="fpt", account_id="48213", external_id=external_id, **values)


def listed(response):
    return {contact.external_id for contact in response.context["cl"].result_list}


def action_names(response):
    form = response.context["action_form"]  # None when the admin offers no action at all
    return {name for name, _label in form.fields["action"].choices if name} if form else set()


class TestFilters:
    def test_status_filter_lists_the_labels_and_narrows_the_list(self, staff_client):
        fpt_contact("1", status_id=3, status="Members")
        fpt_contact("2", status_id=1, status="Leads")
        page = staff_client.get(CHANGELIST)
        assert b"By status" in page.content and b"Members" in page.content and b"Leads" in page.content
        assert listed(staff_client.get(CHANGELIST, {"status": "Members"})) == {"1"}

    def test_sub_group_filter_narrows_the_list(self, staff_client):
        fpt_contact("1", sub_group_id="5521")
        fpt_contact("2", sub_group_id="77")
        fpt_contact("3", sub_group_id="")
        assert b"By sub-group id" in staff_client.get(CHANGELIST).content
        assert listed(staff_client.get(CHANGELIST, {"sub_group_id": "77"})) == {"2"}

    def test_provider_filter_shows_fpt_contacts_only(self, staff_client):
        fpt_contact("9917342")
        ContactFactory(provider="timely", external_id="cont_1")
        assert listed(staff_client.get(CHANGELIST, {"provider": "fpt"})) == {"9917342"}


class TestRefreshNow:
    def test_action_is_offered_only_when_a_fetcher_is_configured(self, staff_client, settings):
        fpt_contact("1")
        assert "refresh_now" not in action_names(staff_client.get(CHANGELIST))
        settings.CONTACT_FETCHERS = {"fpt": "tests.contacts.fake_fetcher.fetch_contact"}
        assert "refresh_now" in action_names(staff_client.get(CHANGELIST))

    def test_action_looks_the_selected_contacts_up_now(
        self, staff_client, fake_fetcher, django_capture_on_commit_callbacks
    ):
        chosen = fpt_contact("1", status_id=1, status="Leads", refresh_attempts=4, refresh_due_at=BASE_TIME)
        other = fpt_contact("2", status_id=1, status="Leads")
        fake_fetcher.states[("fpt", "48213", "1")] = ContactSnapshot(
            fields={"status_id": 3, "status": "Members"}, as_of=BASE_TIME + timedelta(hours=1)
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(
                CHANGELIST, {"action": "refresh_now", "_selected_action": [chosen.pk]}, follow=True
            )
        assert "1 contact queued for a look-up." in [str(m) for m in response.context["messages"]]
        assert fake_fetcher.calls == [("fpt", "48213", "1")]
        chosen.refresh_from_db()
        assert (chosen.status, chosen.needs_refresh, chosen.refresh_attempts, chosen.refresh_due_at) == (
            "Members", False, 0, None
        )  # fmt: skip
        assert Contact.objects.get(pk=other.pk).status == "Leads"

    def test_action_skips_other_providers_and_tombstones_not_reactivated(
        self, staff_client, fake_fetcher, django_capture_on_commit_callbacks
    ):
        timely = ContactFactory(provider="timely")
        tombstone = fpt_contact("3", erased=True, erased_at=BASE_TIME)
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(
                CHANGELIST, {"action": "refresh_now", "_selected_action": [timely.pk, tombstone.pk]}, follow=True
            )
        messages = [str(m) for m in response.context["messages"]]
        assert "0 contacts queued for a look-up." in messages
        assert any(m.startswith("2 skipped") for m in messages)
        assert fake_fetcher.calls == []

    def test_look_up_state_is_shown_on_the_contact_page(self, staff_client):
        contact = fpt_contact("1", refresh_attempts=2, refresh_due_at=BASE_TIME)
        page = staff_client.get(f"{CHANGELIST}{contact.pk}/change/")
        assert b"Refresh attempts" in page.content and b"Refresh due at" in page.content
