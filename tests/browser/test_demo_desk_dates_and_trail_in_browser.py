"""In a real browser, in Brazilian Portuguese: the demo's people give the chart, the list, its filters and
search something to show; the request desk reads its times day first, local, the zone named once; the
access trail shows the list's tag, owner and date filters in the reader's words and formats."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Contact, DataSubjectRequest
from tests.factories import ContactFactory
from webhooks.demo import load_demo

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasure_log_cleanup")]


def test_the_demo_people_fill_the_chart_the_list_its_filters_and_search(logged_in_pt_br, screenshot_of):
    page = logged_in_pt_br
    assert set(load_demo(60, seed=4)) == {200}
    tagged = Contact.objects.filter(erased_at__isnull=True, tags__icontains='"cliente-vip"').count()

    page.goto("/admin/")
    assert page.locator("svg.crm-chart rect").count() >= 1

    page.goto("/admin/contacts/contact/")
    assert page.locator("#result_list tbody tr").count() == Contact.objects.count() >= 60
    assert "Membros" in page.inner_text("#result_list") or "Leads" in page.inner_text("#result_list")
    page.fill("#crm-filter-tag", "cliente-vip")
    page.press("#crm-filter-tag", "Enter")
    page.wait_for_url(re.compile(r"tag=cliente-vip"))
    assert 0 < page.locator("#result_list tbody tr").count() == tagged
    screenshot_of(page, "demo-contacts-tag-filter-pt-BR")

    person = Contact.objects.filter(provider="timely", erased_at__isnull=True).exclude(name="").first()
    page.goto("/admin/contacts/contact/?q=" + person.name.split()[0])
    assert person.name in page.inner_text("#result_list")


def test_the_desk_reads_its_times_day_first_with_the_zone_once(logged_in_pt_br, screenshot_of):
    page = logged_in_pt_br
    contact = ContactFactory(name="Carla Dias")
    received = timezone.now() - timedelta(days=20)
    request = DataSubjectRequest.objects.create(kind="access", received_at=received)
    request.contacts.set([contact])

    page.goto(f"/admin/contacts/datasubjectrequest/{request.pk}/change/")

    desk = page.inner_text("#dsr-desk")
    due = timezone.localtime(request.due_at)
    assert f"{due:%d/%m/%Y %H:%M}" in page.inner_text("#dsr-overdue")
    assert not re.search(r"\d{4}-\d\d-\d\d", desk)
    assert page.locator("#crm-time-zone").count() == 1
    screenshot_of(page, "request-desk-dates-pt-BR")


def test_the_access_trail_shows_the_lists_filters_in_portuguese(logged_in_pt_br):
    page = logged_in_pt_br
    ContactFactory(name="Ana Souza", tags=["cliente-vip"], assigned_to="usr_301")

    page.goto("/admin/contacts/contact/?tag=cliente-vip&assigned_to=usr_301&created_at_from=2026-01-01")
    assert page.locator("#result_list tbody tr").count() == 1
    page.goto("/admin/contacts/contactaccess/")

    trail = page.inner_text("#result_list")
    assert "etiqueta: cliente-vip" in trail and "responsável: usr_301" in trail
    assert "primeiro registro a partir de: 01/01/2026" in trail
    assert "não guardado" not in trail
