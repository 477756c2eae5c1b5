"""The admin home: a dashboard above the app list, drawn on the server."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import ErasureLogVerification
from contacts.services import erase_on_request
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory
from webhooks.dashboard import event_chart, nice_ceiling
from webhooks.models import RejectedDelivery
from webhooks.selectors import hourly_event_counts

pytestmark = pytest.mark.django_db


def home(client):
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_dashboard_sits_above_the_app_list(admin_client):
    page = home(admin_client)

    assert page.index('id="crm-dashboard"') < page.index('class="app-contacts')


def test_chart_is_inline_svg_with_one_bar_per_hour_and_status_and_no_scripts(admin_client):
    now = timezone.now()
    WebhookEventFactory.create_batch(3, status="processed", received_at=now)
    WebhookEventFactory(status="failed", received_at=now)
    WebhookEventFactory(status="processed", received_at=now - timedelta(hours=5))
    WebhookEventFactory(status="processed", received_at=now - timedelta(hours=49))  # outside the window

    page = home(admin_client)

    assert '<svg class="crm-chart"' in page
    assert "<script" not in page.split('id="crm-dashboard"')[1].split("</svg>")[0]
    assert not re.search(r"<script[^>]+src=\"https?://", page)
    # Each bar's hour in TIME_ZONE (named once, in the header), then its count and status.
    titles = re.findall(r"<title>\d{4}-\d\d-\d\d \d\d:00: (\d+ \w+)</title>", page)
    assert sorted(titles) == ["1 Failed", "1 Processed", "3 Processed"]
    assert "(5 received)" in page


def test_failed_and_stuck_events_are_listed_with_links(admin_client):
    failed = WebhookEventFactory(status="failed", status_reason="builtins.KeyError at timely.py:10 in interpret")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    stuck = WebhookEventFactory(status="received", received_at=an_hour_ago, next_attempt_at=an_hour_ago)
    WebhookEventFactory(status="received")  # just arrived: not stuck yet
    waiting = WebhookEventFactory(  # failed a try long ago, its retry is due later: not stuck
        status="received", received_at=timezone.now() - timedelta(hours=1),
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip

    page = home(admin_client)

    assert f'href="/admin/webhooks/webhookevent/{failed.pk}/change/"' in page
    assert f'href="/admin/webhooks/webhookevent/{stuck.pk}/change/"' in page
    assert f"/webhookevent/{waiting.pk}/change/" not in page
    assert "builtins.KeyError at timely.py:10" in page
    assert "1 failed</a>" in page
    assert "1 stuck</a>" in page


def test_contacts_are_counted_by_provider_and_source(admin_client):
    ContactFactory.create_batch(2, provider="timely", source="whatsapp")
    ContactFactory(provider="timely", source="instagram")
    ContactFactory(provider="fpt", source="")

    page = home(admin_client)
    panel = page.split('id="dashboard-contacts"')[1].split("</section>")[0]

    assert '?provider=timely&amp;source__exact=whatsapp">2</a>' in panel
    assert '?provider=timely&amp;source__exact=instagram">1</a>' in panel
    assert "(none)" in panel


def test_erasure_panel_counts_this_month_and_says_never_verified(admin_client):
    erase_on_request(contact=ContactFactory(), requested_by="staff", requested_by_type="admin", reference="DSR-1")

    panel = home(admin_client).split('id="dashboard-erasures"')[1].split("</section>")[0]

    assert "<strong>1</strong> erasure in" in panel
    assert "never verified" in panel
    link = re.search(r'href="(/admin/contacts/erasurerecord/\?[^"]+)"', panel).group(1).replace("&amp;", "&")
    listing = admin_client.get(link)
    assert listing.status_code == 200  # the admin accepts the month's lookups (else it redirects with ?e=1)
    assert listing.context["cl"].result_count == 1


def test_erasure_panel_shows_the_last_verification(admin_client):
    ErasureLogVerification.objects.create(ok=True, records=4, verified_at=timezone.now() - timedelta(days=2))
    ErasureLogVerification.objects.create(ok=False, records=9, first_broken_sequence=7)

    panel = home(admin_client).split('id="dashboard-erasures"')[1].split("</section>")[0]

    assert "BROKEN</span> at record #7" in panel
    assert "never verified" not in panel


def test_staff_see_only_the_panels_of_models_they_may_view(client):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client.force_login(clerk)

    page = home(client)

    assert 'id="dashboard-contacts"' in page
    assert 'id="dashboard-events"' not in page
    assert 'id="dashboard-erasures"' not in page


def test_dashboard_queries_do_not_grow_with_events(admin_client):
    WebhookEventFactory.create_batch(3, status="failed")
    ContactFactory.create_batch(3)
    with CaptureQueriesContext(connection) as few:
        home(admin_client)
    WebhookEventFactory.create_batch(30, status="failed")
    ContactFactory.create_batch(30, source="instagram")
    with CaptureQueriesContext(connection) as many:
        home(admin_client)

    assert len(many) == len(few)


def test_hourly_counts_cover_every_hour_even_empty_ones():
    now = timezone.now()
    WebhookEventFactory(status="ignored", received_at=now - timedelta(hours=2))

    hours = hourly_event_counts(hours=48, now=now)

    assert len(hours) == 48
    assert hours[-1].hour == now.replace(minute=0, second=0, microsecond=0)
    assert [h.counts["ignored"] for h in hours[-3:]] == [1, 0, 0]


def test_bars_stack_per_hour_and_scale_to_a_round_maximum():
    now = timezone.now()
    WebhookEventFactory.create_batch(6, status="processed", received_at=now)
    WebhookEventFactory.create_batch(2, status="failed", received_at=now)

    chart = event_chart(hourly_event_counts(hours=48, now=now))

    processed, failed = chart["bars"]
    assert processed.x == failed.x
    assert failed.y + failed.height == pytest.approx(processed.y)  # failed sits on top
    assert processed.height == pytest.approx(3 * failed.height)
    assert [line["value"] for line in chart["gridlines"]] == [0, 5, 10]


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (230, 500)])
def test_nice_ceiling(value, ceiling):
    assert nice_ceiling(value) == ceiling


def rejected(hours_ago: int, count: int, reason: str = "signature does not match"):
    hour = (timezone.now() - timedelta(hours=hours_ago)).replace(minute=0, second=0, microsecond=0)
    RejectedDelivery.objects.create(provider="timely", reason=reason, hour=hour, count=count)


def test_rejected_deliveries_are_drawn_beside_the_accepted_ones(admin_client):
    WebhookEventFactory(status="processed", received_at=timezone.now())
    rejected(0, 3)
    rejected(0, 2, reason="account not allowed")

    page = home(admin_client)

    assert re.findall(r'fill="#6a1b9a"><title>[^<]*: (5 rejected \(3 failed signature checks\))</title>', page) == [
        "5 rejected (3 failed signature checks)"
    ]
    assert "Rejected (not stored)" in page
    assert 'id="dashboard-signature-spike"' not in page  # 3 is no spike


@pytest.mark.parametrize(
    ("history", "spike"),
    [
        ([(0, 25), (1, 15)], 40),  # a burst after a quiet day: warn
        ([(0, 6), (1, 3)], 0),  # too few to matter
        ([(0, 20), (1, 20), *((h, 15) for h in range(2, 48))], 0),  # always this noisy: no spike
        ([(0, 30, "account not allowed"), (1, 10, "account not allowed")], 0),  # refused accounts: no signature issue
    ],
)
def test_a_spike_of_failed_signature_checks_raises_a_warning(admin_client, history, spike):
    for entry in history:
        rejected(*entry)

    page = home(admin_client)
    warning = re.search(r'id="dashboard-signature-spike"[^>]*>(.*?)</p>', page, re.S)

    if spike:
        assert warning and f"{spike} deliveries failed their signature check" in " ".join(warning.group(1).split())
        assert "/admin/webhooks/rejecteddelivery/" in warning.group(1)
    else:
        assert warning is None


def test_in_portuguese_the_chart_keeps_svg_numbers_and_localizes_only_its_texts(admin_client):
    """A decimal comma in an SVG coordinate ("1169,08") draws nothing: coordinates stay numbers, while the
    texts a person reads (counts, hours, days) are Brazilian."""
    now = timezone.now()
    WebhookEventFactory.create_batch(3, status="processed", received_at=now)
    WebhookEventFactory(status="failed", received_at=now - timedelta(hours=7))

    page = admin_client.get("/admin/", headers={"accept-language": "pt-BR"}).content.decode()
    svg = page.split('<svg class="crm-chart"')[1].split("</svg>")[0]

    coordinates = re.findall(r'\b(?:x|y|x1|x2|y1|y2|width|height)="([^"]*)"', svg)
    assert len(coordinates) > 20
    assert [value for value in coordinates if not re.fullmatch(r"-?\d+(\.\d+)?", value)] == []
    local = timezone.localtime(now)
    assert f"<title>{local:%d/%m/%Y %H}:00: 3 Processado</title>" in svg
    days = re.findall(r'class="crm-axis crm-muted" text-anchor="middle">([^<]*)</text>', svg)
    assert days and all(re.fullmatch(r"\d\d/\d\d", day) for day in days)
    assert f"{local:%d/%m}" in days or f"{timezone.localtime(now - timedelta(hours=6)):%d/%m}" in days


def test_the_month_and_the_last_verification_read_as_a_person_says_them(admin_client):
    ErasureLogVerification.objects.create(ok=True, records=0, verified_at=timezone.now() - timedelta(minutes=3))
    month = timezone.localtime().month

    portuguese = admin_client.get("/admin/", headers={"accept-language": "pt-BR"}).content.decode()
    english = admin_client.get("/admin/", headers={"accept-language": "en"}).content.decode()

    portuguese_months = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
                         "outubro", "novembro", "dezembro"]  # fmt: skip
    assert f"{portuguese_months[month - 1]} de {timezone.localtime().year}" in portuguese
    assert f"{timezone.localtime():%B %Y}" in english
    assert "(3\xa0minutos atrás)" in portuguese and "(3\xa0minutes ago)" in english
    assert "há " not in portuguese.split('id="dashboard-verification"')[1].split("</p>")[0]


class TestVerifyTheLogNow:
    def test_the_button_runs_the_verification_records_who_and_the_dashboard_shows_it(self, admin_client):
        erase_on_request(
            contact=ContactFactory(), requested_by="staff", requested_by_type="admin", reason="data_subject_request"
        )
        panel = home(admin_client).split('id="dashboard-erasures"')[1].split("</section>")[0]
        assert "never verified" in panel and 'id="dashboard-verify-now"' in panel

        response = admin_client.post("/admin/contacts/erasurerecord/verify/", {"next": "/admin/"}, follow=True)

        assert response.redirect_chain == [("/admin/", 302)]
        run = ErasureLogVerification.objects.get()
        assert (run.ok, run.records, run.verified_by) == (True, 1, "admin")
        assert run.compute_hash() == run.hash  # who ran it is covered by the runs' chain
        page = response.content.decode()
        assert "The erasure log is unbroken: 1 record verified." in page
        panel = page.split('id="dashboard-erasures"')[1].split("</section>")[0]
        assert "verified</span> 1 record" in panel and "by admin, from the admin" in panel

    def test_a_broken_log_is_said_so_and_recorded(self, admin_client):
        from tests.conftest import bypass_erasure_log_guard

        erase_on_request(
            contact=ContactFactory(), requested_by="staff", requested_by_type="admin", reason="data_subject_request"
        )
        bypass_erasure_log_guard("UPDATE contacts_erasurerecord SET redacted_events = redacted_events + 5")
        response = admin_client.post("/admin/contacts/erasurerecord/verify/", follow=True)
        assert "BROKEN at record #1" in response.content.decode()
        assert ErasureLogVerification.objects.get().ok is False

    def test_only_by_post_and_only_for_those_who_may_read_the_log(self, client, admin_client):
        assert admin_client.get("/admin/contacts/erasurerecord/verify/").status_code == 405
        clerk = UserFactory(is_staff=True)
        clerk.user_permissions.add(Permission.objects.get(codename="view_contact"))
        client.force_login(clerk)
        assert client.post("/admin/contacts/erasurerecord/verify/").status_code == 403
        assert not ErasureLogVerification.objects.exists()

    def test_a_run_from_the_command_is_shown_as_such(self, admin_client):
        from contacts.services.erasure_log import verify_erasure_log

        verify_erasure_log()
        panel = home(admin_client).split('id="dashboard-erasures"')[1].split("</section>")[0]
        assert "by manage.py verify_erasure_log" in panel
