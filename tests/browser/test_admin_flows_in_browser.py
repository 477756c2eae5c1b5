"""More of staff's flows in a real browser: exports, local times, from an event to its contact, the front
door and the API in a browser, the dashboard in Portuguese."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import RejectedDelivery

pytestmark = pytest.mark.django_db(transaction=True)

BOM = b"\xef\xbb\xbf"


def download(page, click) -> bytes:
    with page.expect_download() as started:
        click()
    return started.value.path().read_bytes()


def csv_rows(content: bytes) -> list[dict]:
    assert content.startswith(BOM)  # Excel in Portuguese reads the accents
    return list(csv.DictReader(io.StringIO(content[len(BOM) :].decode("utf-8"))))


def test_sales_export_the_selected_and_then_the_filtered_contacts_as_csv(logged_in, screenshot):
    page = logged_in
    ContactFactory(name='=HYPERLINK("http://exemplo.com","abrir")', external_id="cont_formula", source="whatsapp")
    ContactFactory(name="João Conceição", external_id="cont_joao", source="instagram")
    ContactFactory(name="Bruno Lima", external_id="cont_bruno", source="whatsapp")
    page.goto("/admin/contacts/contact/")

    page.locator("tr", has_text="HYPERLINK").locator("input.action-select").check()
    page.locator("tr", has_text="João Conceição").locator("input.action-select").check()
    page.select_option("select[name=action]", label="Export selected contacts as CSV")
    selected = csv_rows(download(page, lambda: page.click("button[name=index]")))

    assert sorted(row["external_id"] for row in selected) == ["cont_formula", "cont_joao"]
    by_id = {row["external_id"]: row for row in selected}
    assert by_id["cont_formula"]["name"] == '\'=HYPERLINK("http://exemplo.com","abrir")'  # shown, never run
    assert by_id["cont_joao"]["name"] == "João Conceição"

    page.goto("/admin/contacts/contact/?source__exact=whatsapp")
    page.fill("#searchbar", "bruno")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**q=bruno**")
    screenshot("contacts-export-filtered")
    filtered = csv_rows(download(page, lambda: page.click("a.exportlink")))

    assert [row["external_id"] for row in filtered] == ["cont_bruno"]  # the list as filtered and searched


def test_a_brazilian_browser_reads_an_event_at_local_time_and_opens_its_contact(logged_in_pt_br, screenshot_of):
    page = logged_in_pt_br
    ContactFactory(provider="fpt", account_id="9001", external_id="9917342", name="", phone="", email="")
    WebhookEventFactory(provider="fpt", account_id="9001", external_id="9917342", event_type="contact.updated",
                        status="processed", received_at=datetime(2026, 4, 19, 14, 30, 5, tzinfo=UTC),
                        occurred_at=datetime(2026, 4, 19, 14, 30, 1, tzinfo=UTC))  # fmt: skip
    page.goto("/admin/webhooks/webhookevent/")

    row = page.locator("#result_list tbody tr").first
    expect(row.locator(".field-received_at")).to_have_text("19/04/2026 11:30")  # 14:30:05 UTC
    assert "America/Sao_Paulo (UTC-03:00)" in page.locator("#crm-time-zone").inner_text()
    screenshot_of(page, "event-list-local-time-pt-br")

    row.locator(".field-contact_cell a", has_text="9917342").click()
    page.wait_for_url("**/admin/contacts/contact/*/change/")
    # The contact's page names an id-only contact readably, in Portuguese, in its title and breadcrumbs.
    assert "Ainda sem nome · fpt nº 9917342" in page.title()
    expect(page.locator(".breadcrumbs")).to_contain_text("Ainda sem nome · fpt nº 9917342")
    expect(page.locator("#contact-timeline")).to_contain_text("19/04/2026 11:30")
    screenshot_of(page, "contact-from-event-pt-br")


def test_a_brazilian_browser_sees_rejected_deliveries_and_the_signature_warning(logged_in_pt_br, screenshot_of):
    page = logged_in_pt_br
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    WebhookEventFactory.create_batch(3, status="processed", received_at=hour)
    RejectedDelivery.objects.create(provider="fpt", reason="signature does not match", count=25, hour=hour)
    page.reload()

    rejected_bars = page.locator(".crm-chart rect", has=page.locator("title", has_text="rejeitad"))
    assert rejected_bars.count() == 1
    assert "25 rejeitad" in rejected_bars.first.locator("title").text_content()
    warning = page.locator("#dashboard-signature-spike")
    expect(warning).to_contain_text("25 entregas falharam na verificação de assinatura")
    screenshot_of(page, "dashboard-signature-spike-pt-br")

    warning.locator("a").click()
    page.wait_for_url("**/webhooks/rejecteddelivery/**")
    expect(page.locator("#result_list")).to_contain_text("a assinatura não confere")  # stored in English


def test_the_root_the_api_root_the_schema_and_the_favicon_in_a_browser(page, live_server, screenshot):
    page.goto("/")
    page.wait_for_url("**/admin/login/**")  # the root is the admin, which asks who you are first
    expect(page.locator("#id_username")).to_be_visible()

    page.goto("/api/")
    api_root = page.evaluate("() => JSON.parse(document.body.innerText)")
    assert api_root["schema"] == f"{live_server.url}/api/schema/"

    response = page.goto(api_root["schema"])  # a page to read, not a file to download
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("pre")).to_contain_text("openapi: 3")
    expect(page.locator("pre")).to_contain_text("/api/contacts/")
    screenshot("api-schema-page")

    icon = page.goto("/favicon.ico")
    assert icon.ok and icon.headers["content-type"] == "image/svg+xml"
    assert icon.url.endswith("/static/crm/favicon.svg")
