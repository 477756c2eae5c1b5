"""The API's contract: an OpenAPI 3 document, docs served from our own static files, and no 5xx for any
request the document allows (schemathesis, in-process against the WSGI app)."""

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from contacts.models import DataSubjectRequest
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db


def test_schema_documents_every_endpoint_and_the_contact_filters(client):
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert {"/api/contacts/", "/api/contacts/{id}/", "/api/webhook-events/", "/api/webhook-events/{id}/",
            "/api/erasures/", "/api/erasures/{id}/", "/api/data-subject-requests/",
            "/api/data-subject-requests/{id}/"} <= set(document["paths"])  # fmt: skip
    request_filters = {p["name"] for p in document["paths"]["/api/data-subject-requests/"]["get"]["parameters"]}
    assert {"status", "kind", "due_before", "due_after"} <= request_filters
    parameters = {p["name"] for p in document["paths"]["/api/contacts/"]["get"]["parameters"]}
    assert {"provider", "account_id", "external_id", "updated_since", "erased", "search", "cursor"} <= parameters


def test_interactive_docs_load_their_assets_from_our_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "/api/schema/" in page


@pytest.fixture
def keep_test_connection():
    """The real WSGI handler closes the database connection after each request, as a server should; the
    test's transaction lives on that connection (Django's test client disconnects the same receiver)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def reader_token(db, keep_test_connection):
    reader = UserFactory(username="api-reader")
    reader.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_contact", "view_webhookevent", "view_erasurerecord", "view_datasubjectrequest"]
        )
    )
    # Something to find, so filters and detail pages run on real rows too.
    for n in range(1, 4):
        ContactFactory(pk=n, tags=["vip"], custom_fields={"plan": "gold"})
        WebhookEventFactory(pk=n, external_id=f"cont_{n}", occurred_at=timezone.now())
        DataSubjectRequest.objects.create(pk=n, kind="access").contacts.add(n)
    return Token.objects.create(user=reader).key


# Loaded at collection: serving the schema needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_the_schema_allows_gets_a_server_error(case, reader_token):
    case.call_and_validate(headers={"Authorization": f"Token {reader_token}"}, checks=[not_a_server_error])


def test_schema_generates_without_warnings_and_validates(tmp_path):
    # A serializer field drf-spectacular cannot type would show up here as a warning, and in the docs as "string".
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/contacts/" in (tmp_path / "schema.yaml").read_text()
