"""Views marked ``@bare`` (the webhook receivers) are answered right after the request id and the security
middleware, skipping sessions, locale, CSRF, authentication, two-factor, messages and django-axes
(config/web/bare_views.py); everything else still goes through the whole stack."""

import logging

import pytest
from django.conf import settings
from django.http import JsonResponse
from django.test import Client
from django.urls import path
from django.utils import translation

from config.web.bare_views import bare

logger = logging.getLogger("tests.bare")


def describe(request):
    logger.warning("inside the view")
    return JsonResponse(
        {"user": hasattr(request, "user"), "session": hasattr(request, "session"), "lang": translation.get_language()}
    )


def fail(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("bare/", bare(describe)),
    path("dressed/", describe),
    path("bare-failing/", bare(fail)),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def test_a_bare_view_gets_no_session_and_no_user_and_a_plain_view_still_does(client):
    assert client.get("/bare/").json() | {"lang": None} == {"user": False, "session": False, "lang": None}
    assert client.get("/dressed/").json() | {"lang": None} == {"user": True, "session": True, "lang": None}


def test_a_bare_answer_keeps_the_request_id_security_headers_and_length(client, caplog):
    with caplog.at_level(logging.WARNING, logger="tests.bare"):
        response = client.get("/bare/", headers={"X-Request-Id": "edge-1"})

    assert response["X-Request-Id"] == "edge-1"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(response.content))
    [record] = [r for r in caplog.records if r.name == "tests.bare"]
    assert record.request_id == "edge-1"


def test_a_bare_view_answers_in_the_default_language_whatever_the_thread_served_before(client):
    translation.activate("pt-br")  # as LocaleMiddleware leaves a thread after a Portuguese admin page
    try:
        assert client.get("/bare/").json()["lang"] == settings.LANGUAGE_CODE
    finally:
        translation.deactivate()


def test_an_exception_in_a_bare_view_becomes_a_500_answer_with_the_request_id():
    response = Client(raise_request_exception=False).get("/bare-failing/", headers={"X-Request-Id": "edge-2"})

    assert response.status_code == 500
    assert response["X-Request-Id"] == "edge-2"


def test_an_unknown_path_still_goes_through_the_whole_stack(client):
    response = client.get("/nowhere/")

    assert response.status_code == 404
    assert response["X-Frame-Options"] == "DENY"  # XFrameOptionsMiddleware, near the end of the stack
