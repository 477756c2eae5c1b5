"""Every page of the admin, found from the admin site's own URLs (every registered model's list, form, history
and delete pages, and the site's own views), read in a Chromium asking for pt-BR: no word from
english_on_portuguese_pages.txt beside this file shows, and no page errors."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import URLResolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from contacts.models import DataSubjectRequest, DownstreamSystem, ErasureLogVerification, ErasurePropagation
from contacts.services import ErasureOrigin, erase_contact
from contacts.services.downstream import save_downstream_system
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import PayloadPurge, RejectedDelivery

pytestmark = pytest.mark.django_db(transaction=True)

ENGLISH = [
    line.strip()
    for line in (Path(__file__).with_name("english_on_portuguese_pages.txt")).read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
# django-otp names its device models in English only ("TOTP device", an untranslatable string), and its pages
# title and trace themselves with those names; django-axes writes a failure's title in English (its __str__).
# What a reader sees of them on the home page is ours (config/third_party.py); their own pages are left out.
THIRD_PARTY_ENGLISH_ONLY = ("/admin/otp_totp/totpdevice/", "/admin/otp_static/staticdevice/",
                            "/admin/axes/accessfailurelog/1/")  # fmt: skip
# Django stores permission names in the database, in English, and lists them as stored on a user's and a
# group's form: that list is not read for this check.
UNREAD = "select[name$=permissions] option, .related-widget-wrapper select[multiple] option"
# Views that are not pages to read: leaving, files, JSON for scripts, redirects elsewhere.
# Not pages: redirects, scripts, and actions that answer only a POST (the verify button, "mark answered").
NOT_PAGES = {"logout", "jsi18n", "autocomplete", "view_on_site", "contacts_contact_by_key",
             "contacts_erasurerecord_verify", "contacts_datasubjectrequest_answer"}  # fmt: skip
NOT_PAGE_SUFFIXES = ("_export", "_print")
# Pages of an object other than their model admin's own: which row to open.
ROUTE_OBJECTS = {
    "contacts_erasurerecord_answer": lambda: ErasurePropagation.objects.filter(kind="manual").first(),
}


def admin_routes(patterns=None, prefix=""):
    for pattern in admin.site.get_urls() if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from admin_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.name


def registered_models():
    return [model for model in apps.get_models() if admin.site.is_registered(model)]


def every_page() -> list[str]:
    """One path per admin page: every registered model's object pages for its first row, each app's index,
    the site's own views."""
    objects = {f"{m._meta.app_label}_{m._meta.model_name}_": m._default_manager.order_by("pk").first()
               for m in registered_models()}  # fmt: skip
    paths = []
    for route, name in admin_routes():
        if name in NOT_PAGES or (name or "").endswith(NOT_PAGE_SUFFIXES) or route == "(?P<url>.*)$":
            continue
        if name == "app_list":
            labels = re.search(r"\(\?P<app_label>([^)]*)\)", route).group(1).split("|")
            paths += [f"/admin/{label}/" for label in labels]
            continue
        if "<" in route:
            obj = (
                ROUTE_OBJECTS[name]()
                if name in ROUTE_OBJECTS
                else next((obj for prefix, obj in objects.items() if (name or "").startswith(prefix)), None)
            )
            if obj is None:
                continue
            route = re.sub(r"<[^>]+>", str(obj.pk), route)
        paths.append("/admin/" + route)
    return paths


@pytest.fixture
def a_bit_of_everything(admin_user, erasure_log_cleanup):
    now = timezone.now()
    contact = ContactFactory(name="Ana Costa Ribeiro", phone="+5547991234567", tags=["vip"], source="whatsapp",
                             custom_fields={"plano": "ouro"}, assigned_to="usr_9")  # fmt: skip
    WebhookEventFactory(external_id=contact.external_id, event_type="contact.updated", status="processed",
                        status_reason="drift in: name; marked needs_refresh", changed_fields=["name", "custom_fields"],
                        drift=["name"], actor_type="attendant", actor_id="usr_77", occurred_at=now)  # fmt: skip
    WebhookEventFactory(external_id=contact.external_id, event_type="conversation.created", status="ignored",
                        status_reason="event type conversation.created is not applied")  # fmt: skip
    WebhookEventFactory(status="failed", status_reason="builtins.KeyError at timely.py:10 in interpret")
    ContactFactory(provider="fpt", account_id="48213", external_id="9917342", name="", phone="", email="",
                   status="Members", status_id=3, needs_refresh=True)  # fmt: skip
    save_downstream_system(DownstreamSystem(name="faturamento", kind="webhook", url="https://faturamento.example/",
                                            secrets=["whsec_" + "QUJD" * 8]))  # fmt: skip
    save_downstream_system(DownstreamSystem(name="planilha", kind="manual"))
    erase_contact(contact=ContactFactory(external_id="cont_gone"), origin=ErasureOrigin.DATA_SUBJECT_REQUEST,
                  requested_by="dpo", requested_by_type="admin", reason="data_subject_request",
                  reference="DSR-4711")  # fmt: skip
    DataSubjectRequest.objects.create(kind="access").contacts.add(contact)
    RejectedDelivery.objects.create(provider="fpt", reason="signature does not match", count=3,
                                    hour=now.replace(minute=0, second=0, microsecond=0))  # fmt: skip
    PayloadPurge.objects.create(cutoff=now - timedelta(days=90), events=2, by="cron")
    ErasureLogVerification.objects.create(ok=True, records=1)
    AccessAttempt.objects.create(username="someone", ip_address="127.0.0.1", user_agent="x", failures_since_start=1)
    AccessFailureLog.objects.create(username="someone", ip_address="127.0.0.1", user_agent="x")
    AccessLog.objects.create(username=admin_user.username, ip_address="127.0.0.1", user_agent="x")
    TOTPDevice.objects.create(user=admin_user, name="Authenticator app", confirmed=False)
    StaticToken.objects.create(device=StaticDevice.objects.create(user=admin_user, name="Backup codes"), token="abc")
    Token.objects.create(user=admin_user)
    Group.objects.get_or_create(name="Vendas")


def test_every_admin_page_reads_in_portuguese(logged_in_pt_br, a_bit_of_everything, screenshot_of):
    page = logged_in_pt_br
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    paths = every_page()
    assert len(paths) > 60  # the discovery found the admin (lists, forms, histories, the site's own pages)
    assert "/admin/axes/accessattempt/" in paths and "/admin/contacts/contact/" in paths

    found = {}
    for path in paths:
        if path.startswith(THIRD_PARTY_ENGLISH_ONLY):
            continue
        response = page.goto(path)
        assert response.status < 500, path
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue  # a file or JSON, not a page (a view this walk does not know to leave out)
        page.evaluate("(selector) => document.querySelectorAll(selector).forEach(node => node.remove())", UNREAD)
        text = page.evaluate("() => document.body ? document.body.innerText : ''")
        # Not after a dot: an event type (contact.erased) is a technical value, not a word.
        english = [word for word in ENGLISH if re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w-])", text)]
        if english:
            found[path] = english
    page.goto(reverse("admin:index"))
    screenshot_of(page, "admin-index-pt-br")

    assert found == {}, "\n".join(f"{path}: {words}" for path, words in found.items())
    assert errors == []
