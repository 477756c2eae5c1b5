"""The admin as Brazilian staff meet it: a Chromium in pt-BR, in America/Sao_Paulo."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import WebhookEventFactory
from webhooks.models import RejectedDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_dashboard_chart_draws_its_bars_in_portuguese_without_a_console_error(logged_in_pt_br, screenshot_of):
    page = logged_in_pt_br
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    now = timezone.now()
    for hours_ago, status, count in [(0, "processed", 4), (3, "ignored", 2), (9, "processed", 7), (30, "failed", 1)]:
        WebhookEventFactory.create_batch(count, status=status, received_at=now - timedelta(hours=hours_ago))
    RejectedDelivery.objects.create(provider="timely", reason="signature does not match", count=2,
                                    hour=now.replace(minute=0, second=0, microsecond=0))  # fmt: skip

    page.reload()

    bars = page.locator("svg.crm-chart rect")
    assert bars.count() == 5  # four stacks of accepted events, one bar of rejected ones
    for index in range(bars.count()):
        box = bars.nth(index).bounding_box()
        assert box and box["width"] > 1 and box["height"] > 1, f"bar {index} is not drawn: {box}"
    # The hours' labels stand apart (not piled up at x=0), each day as dd/mm.
    days = page.locator("svg.crm-chart text.crm-muted")
    positions = [days.nth(index).bounding_box()["x"] for index in range(days.count())]
    assert len(positions) >= 7 and len(set(positions)) == len(positions)
    assert all(re.fullmatch(r"\d\d/\d\d", text) for text in days.all_text_contents())
    assert "Processado" in page.locator(".crm-legend").inner_text()
    screenshot_of(page, "dashboard-chart-pt-br")
    assert errors == []
