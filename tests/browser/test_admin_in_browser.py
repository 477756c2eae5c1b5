"""Staff's admin, clicked through in a real browser."""

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import ErasureRecord
from contacts.services import ErasureOrigin, erase_contact
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import RejectedDelivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ana():
    contact = ContactFactory(
        name="Ana Costa Ribeiro", phone="+5547991234567", email="ana.costa@exemplo.com.br", external_id="cont_456",
        tags=["vip", "joinville"], custom_fields={"plan": "gold"}, needs_refresh=True,
    )  # fmt: skip
    now = timezone.now()
    WebhookEventFactory(
        external_id="cont_456", event_type="contact.created", status="processed", received_at=now - timedelta(hours=3),
        changed_fields=["email", "name", "phone", "source", "tags"],
    )  # fmt: skip
    WebhookEventFactory(
        external_id="cont_456", event_type="contact.updated", status="processed", received_at=now - timedelta(hours=1),
        changed_fields=["name"], drift=["name"], actor_id="usr_77", actor_type="attendant",
        status_reason="drift in: name",
    )  # fmt: skip
    return contact


def test_staff_log_in_and_see_the_dashboard(logged_in, screenshot):
    page = logged_in
    now = timezone.now()
    for hours_ago, status, count in [(0, "processed", 4), (2, "ignored", 2), (5, "processed", 7), (30, "failed", 1)]:
        WebhookEventFactory.create_batch(count, status=status, received_at=now - timedelta(hours=hours_ago))
    two_hours_ago = now - timedelta(hours=2)
    WebhookEventFactory(status="received", received_at=two_hours_ago, next_attempt_at=two_hours_ago)  # stuck
    ContactFactory.create_batch(3, source="whatsapp")
    ContactFactory(source="instagram")
    RejectedDelivery.objects.create(provider="timely", reason="signature does not match", count=40,
                                    hour=now.replace(minute=0, second=0, microsecond=0))  # fmt: skip
    page.reload()

    assert page.locator(".crm-chart rect").count() == 6  # 5 stacks of accepted events, 1 bar of rejected ones
    assert "40 deliveries failed their signature check" in page.locator("#dashboard-signature-spike").inner_text()
    assert page.locator("#dashboard-attention tbody tr").count() == 2
    assert "never verified" in page.locator("#dashboard-verification").inner_text()
    # The dashboard comes before the app list, the chart is drawn at a readable size.
    assert page.locator("#crm-dashboard").bounding_box()["y"] < page.locator(".app-contacts").bounding_box()["y"]
    # Full width: above both the app list and the recent actions, not squeezed into one column.
    content = page.locator("#content").bounding_box()
    assert page.locator(".crm-chart").bounding_box()["width"] > content["width"]  # into the recent actions' column
    assert page.locator(".crm-chart").bounding_box()["width"] > 1000
    assert page.locator("#crm-dashboard").bounding_box()["y"] < page.locator("#content-related").bounding_box()["y"]
    screenshot("dashboard")


def test_staff_search_a_contact_and_open_its_timeline(logged_in, ana, screenshot):
    page = logged_in
    ContactFactory(name="Bruno Lima")
    page.goto("/admin/contacts/contact/")

    page.fill("#searchbar", "(47) 99123-4567")
    page.press("#searchbar", "Enter")
    page.click("text=Ana Costa Ribeiro")

    page.wait_for_url("**/change/**")
    timeline = page.locator("#contact-timeline")
    assert timeline.locator("tr.crm-timeline-entry").count() == 2
    assert "attendant usr_77" in timeline.inner_text()
    assert page.locator(".crm-provider-fields .crm-tag").all_inner_texts() == ["vip", "joinville"]
    assert page.locator(".crm-badge-refresh").first.is_visible()
    assert page.locator(".crm-local-fields textarea[name=notes]").is_editable()
    screenshot("contact")

    timeline.locator("a", has_text="contact.updated").click()
    page.wait_for_url("**/webhookevent/**")
    assert "drift in: name" in page.locator(".field-status_reason_display .readonly").inner_text()
    screenshot("webhook-event")


def test_staff_erase_a_contact_through_the_confirmation_page_and_find_it_in_the_log(
    logged_in, ana, screenshot, erasure_log_cleanup
):
    page = logged_in
    page.goto("/admin/contacts/contact/")

    page.locator("tr", has_text="Ana Costa Ribeiro").locator("input.action-select").check()
    page.select_option("select[name=action]", label="Erase (data-subject request)")
    page.click("button[name=index]")
    # The reason is a choice (a data-subject request first), the reference a ticket id: no free text.
    reason = page.locator("#content select[name=reason]")
    assert reason.input_value() == "data_subject_request"
    reason.select_option("consent_withdrawn")
    page.locator("#content [name=reference]").fill("DSR-4711")
    screenshot("erase-confirmation")
    page.locator("#content form [type=submit]").first.click()

    expect(page.locator(".messagelist .success")).to_contain_text("Erased 1 contact;")
    page.goto("/admin/contacts/erasurerecord/")
    assert page.locator("#result_list", has_text="cont_456").count() == 1
    assert "Ana Costa" not in page.content()
    ana.refresh_from_db()
    assert ana.erased_at is not None and ana.name == ""
    record = ErasureRecord.objects.get(external_id="cont_456")
    assert (record.reason, record.reference) == ("consent_withdrawn", "DSR-4711")


def test_a_brazilian_browser_gets_portuguese_and_finds_joao_without_the_accent(
    chromium_browser, live_server, admin_user, screenshot_of
):
    ContactFactory(name="João Sebastião da Conceição", tags=["cliente-vip"], external_id="cont_joao")
    ContactFactory(name="Bruno Lima")
    context = chromium_browser.new_context(
        viewport={"width": 1366, "height": 900}, base_url=live_server.url, locale="pt-BR"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto("/admin/login/")
        page.fill("#id_username", admin_user.username)
        page.fill("#id_password", "password")
        page.click("input[type=submit]")
        page.wait_for_selector("#crm-dashboard")
        assert page.locator("html").get_attribute("lang") == "pt-br"
        assert "Contatos por provedor e origem" in page.locator("#dashboard-contacts").inner_text()

        page.goto("/admin/contacts/contact/")
        page.fill("#searchbar", "conceicao JOAO")
        page.press("#searchbar", "Enter")
        page.wait_for_url("**q=conceicao**")

        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 1
        assert "João Sebastião da Conceição" in rows.first.inner_text()
        assert "Exportar CSV" in page.locator(".object-tools").text_content()
        assert "America/Sao_Paulo" in page.locator("#crm-time-zone").inner_text()
        screenshot_of(page, "contact-search-pt-br")
    finally:
        context.close()


def test_compliance_erases_from_the_contact_page_and_confirms_it_by_email(
    logged_in, ana, screenshot, erasure_log_cleanup, settings
):
    settings.ERASURE_FINGERPRINT_KEY = "browser-test-key"
    page = logged_in
    page.goto(f"/admin/contacts/contact/{ana.pk}/change/")

    page.click("#crm-erase-button")
    page.locator("#content [name=reference]").fill("DSR-5150")
    page.locator("#content form [type=submit]").first.click()
    expect(page.locator(".messagelist .success")).to_contain_text("Erased 1 contact;")

    page.goto("/admin/contacts/erasurerecord/")
    assert "DSR-5150" in page.locator("#result_list").inner_text()
    assert "Data-subject request" in page.locator("#result_list").inner_text()
    page.click("#crm-erasure-lookup-link")
    page.fill("#id_email", "ANA.COSTA@exemplo.com.br")
    page.click("#crm-erasure-lookup input[type=submit]")
    expect(page.locator("#crm-lookup-found")).to_be_visible()
    screenshot("erasure-lookup")
    page.locator("#crm-lookup-results a", has_text="cont_456").click()
    page.wait_for_url(f"**/contact/{ana.pk}/change/")
    assert page.locator("a.crm-erasure-record").count() == 1
    assert page.locator("#crm-erase-button").count() == 0  # a tombstone has nothing left to erase


def test_redoc_loads_nothing_from_outside(page, live_server):
    outside, blocked = [], []

    def leaves_the_server(url: str) -> bool:
        parsed = urlparse(url)
        return parsed.scheme in ("http", "https") and parsed.netloc != urlparse(live_server.url).netloc

    page.on("request", lambda request: leaves_the_server(request.url) and outside.append(request.url))
    # Chromium reports a request its content security policy refused as failed with "csp".
    page.on("requestfailed", lambda request: "csp" in (request.failure or "").lower() and blocked.append(request.url))

    page.goto("/api/redoc/")

    expect(page.locator("h1", has_text="crm-sync API")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # ReDoc's bundle asks for the Redocly logo on its CDN; the page's policy stops it before it leaves.
    assert sorted(outside) == sorted(blocked)
    assert not [url for url in outside if "fonts.googleapis.com" in url]


def test_api_docs_render_from_our_own_static_files(page, live_server):
    outside = []
    page.on("request", lambda request: urlparse(request.url).netloc != urlparse(live_server.url).netloc
            and outside.append(request.url))  # fmt: skip

    page.goto("/api/docs/")

    page.wait_for_selector(".swagger-ui .info .title")
    assert "crm-sync API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock-summary-path", has_text="/api/contacts/").count() >= 1
    assert outside == []


@pytest.mark.parametrize("path", ["/admin/contacts/contact/", "/admin/webhooks/webhookevent/",
                                  "/admin/contacts/erasurerecord/"])  # fmt: skip
def test_lists_fit_a_1366_pixel_screen(chromium_browser, live_server, admin_user, erasure_log_cleanup, path,
                                       screenshot_of):  # fmt: skip
    ContactFactory(name="Maria da Conceição Albuquerque Magalhães", email="maria.conceicao.albuquerque@exemplo.com.br",
                   tags=["cliente-vip"], source="whatsapp", status="Members")  # fmt: skip
    WebhookEventFactory(external_id="cont_with_a_rather_long_identifier_0001", account_id="ws_abc123")
    erase_contact(contact=ContactFactory(external_id="cont_erased_1"), origin=ErasureOrigin.DATA_SUBJECT_REQUEST,
                  requested_by="dpo@exemplo.com.br", requested_by_type="admin",
                  reason="data_subject_request", reference="LGPD/2026/4711")  # fmt: skip
    context = chromium_browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/admin/login/")
        page.fill("#id_username", admin_user.username)
        page.fill("#id_password", "password")
        page.click("input[type=submit]")
        page.wait_for_selector("#crm-dashboard")
        page.goto(path)

        overflow = page.evaluate("() => { const r = document.querySelector('.results');"
                                 " return r.scrollWidth - r.clientWidth; }")  # fmt: skip
        screenshot_of(page, "list-1366-" + path.strip("/").split("/")[-1])
        assert overflow <= 0, f"{path} is {overflow} px wider than its box at 1,366 px"
    finally:
        context.close()
