"""Contacts › Downstream systems and an erasure's propagation, clicked through by Compliance in a Chromium
asking for pt-BR: add a webhook system (its secret shown once), send it a test message that its receiver
verifies, confirm a manual notice, deactivate the system and mark its notices impossible, one from the
erasure's record and the rest from the systems' list. Every page on the way reads in Portuguese."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from standardwebhooks import Webhook

from contacts.models import ErasurePropagation
from contacts.services.erasure import erase_on_request
from tests.browser.conftest import compliance_page_in
from tests.browser.test_every_admin_page_in_portuguese import ENGLISH
from tests.factories import ContactFactory
from tests.outbound.receiver import Receiver
from webhooks.outbound.dispatcher import OutboundDispatcher
from webhooks.outbound.models import OutboundMessage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasure_log_cleanup")]


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    started = Receiver()
    yield started
    started.close()


@pytest.fixture
def compliance_pt_br(chromium_browser, live_server):
    page, context = compliance_page_in(
        chromium_browser, live_server, locale="pt-BR", timezone_id="America/Sao_Paulo",
        viewport={"width": 1366, "height": 900},
    )  # fmt: skip
    yield page
    context.close()


def english_on(page) -> list[str]:
    text = page.evaluate("() => document.body.innerText")
    return [word for word in ENGLISH if re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w-])", text)]


def propagation_row(page, system: str):
    return page.locator("table.crm-propagation tbody tr", has=page.locator("td:first-child", has_text=system))


def erase():
    return erase_on_request(
        contact=ContactFactory(), requested_by="dpo", requested_by_type="admin", reason="data_subject_request",
        reference="DSR-77",
    )  # fmt: skip


def test_compliance_keeps_downstream_systems_and_settles_an_erasures_notices_in_portuguese(
    compliance_pt_br, receiver, screenshot_of
):
    page = compliance_pt_br
    english = {}

    def read(name: str) -> None:
        page.wait_for_load_state()
        if words := english_on(page):
            english[name] = words
        screenshot_of(page, f"downstream-{name}-pt-br")

    # A webhook system, its secret generated and shown this once.
    page.goto("/admin/contacts/downstreamsystem/add/")
    read("add")
    page.fill("#id_name", "faturamento")
    page.select_option("#id_kind", "webhook")
    page.fill("#id_url", receiver.url)
    page.check("#id_generate_secret")
    page.click("input[name=_save]")
    shown = page.locator("ul.messagelist").inner_text()
    assert "exibido só desta vez" in shown
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", shown).group(0)
    read("list")

    # The test message: queued from the list, delivered by the worker, verified by the receiving team.
    page.locator("#result_list tr", has_text="faturamento").locator("input.action-select").check()
    page.select_option("select[name=action]", value="send_ping")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Uma mensagem de teste para 1 sistema está na fila")
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    [ping] = receiver.requests
    assert Webhook(secret).verify(ping.body, ping.headers)["type"] == "ping"

    # Two erasures: the webhook system, a manual one and the source provider must be told of each.
    call_command("add_downstream_system", "--name", "planilha da central", "--manual", stdout=io.StringIO())
    first, second = erase(), erase()
    page.goto(f"/admin/contacts/erasurerecord/{first.pk}/change/")
    read("record")
    expect(propagation_row(page, "faturamento")).to_contain_text("Pendente")
    expect(propagation_row(page, "planilha da central")).to_contain_text("Aguardando confirmação")
    expect(propagation_row(page, "timely")).to_contain_text("Aguardando confirmação")
    expect(propagation_row(page, "faturamento").locator("a.crm-answer")).to_have_count(0)  # active: it is told

    # The manual system's notice confirmed once the person is deleted there.
    propagation_row(page, "planilha da central").locator("a.crm-answer").click()
    page.wait_for_selector("#crm-propagation-answer")
    read("answer-manual")
    page.check("input[name=status][value=confirmed]")
    page.click("#crm-propagation-answer input[type=submit]")
    page.wait_for_url(f"**/admin/contacts/erasurerecord/{first.pk}/change/")
    expect(propagation_row(page, "planilha da central")).to_contain_text("Confirmado")
    expect(propagation_row(page, "planilha da central")).to_contain_text("dpo")

    # The webhook system is deactivated before its messages went out: none of them is sent any more.
    page.goto("/admin/contacts/downstreamsystem/")
    page.locator("#result_list a", has_text="faturamento").click()
    page.wait_for_selector("#id_active")
    read("change")
    page.uncheck("#id_active")
    page.click("input[name=_save]")
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    assert len(receiver.requests) == 1  # the ping only

    # One erasure's notice to it marked impossible from the erasure's record...
    page.goto(f"/admin/contacts/erasurerecord/{first.pk}/change/")
    propagation_row(page, "faturamento").locator("a.crm-answer").click()
    page.wait_for_selector("#crm-propagation-answer")
    read("answer-webhook")
    expect(page.locator("input[name=status]")).to_have_count(1)  # impossible is the only answer
    page.select_option("#id_reason", value="system_decommissioned")
    page.click("#crm-propagation-answer input[type=submit]")
    page.wait_for_url(f"**/admin/contacts/erasurerecord/{first.pk}/change/")
    expect(propagation_row(page, "faturamento")).to_contain_text("Impossível")
    expect(propagation_row(page, "faturamento")).to_contain_text("O sistema não existe mais")
    read("record-settled")

    # ...and the rest at once from the systems' list.
    page.goto("/admin/contacts/downstreamsystem/")
    page.locator("#result_list tr", has_text="faturamento").locator("input.action-select").check()
    page.select_option("select[name=action]", value="mark_undelivered_impossible")
    page.click("button[name=index]")
    expect(page.locator("#crm-mark-impossible")).to_contain_text("faturamento: 1 aviso não entregue")
    read("mark-impossible")
    page.select_option("#id_reason", value="disproportionate_effort")
    page.click("#crm-mark-impossible input[type=submit]")
    expect(page.locator("ul.messagelist")).to_contain_text("1 aviso foi marcado como impossível")

    page.goto(f"/admin/contacts/erasurerecord/{second.pk}/change/")
    expect(propagation_row(page, "faturamento")).to_contain_text("Impossível")
    webhook_entries = ErasurePropagation.objects.filter(kind="webhook")
    assert sorted(webhook_entries.values_list("impossible_reason", flat=True)) == [
        "disproportionate_effort", "system_decommissioned",
    ]  # fmt: skip
    assert set(OutboundMessage.objects.filter(event_type="contact.erased").values_list("status", flat=True)) == {
        "cancelled"
    }
    assert english == {}, english
