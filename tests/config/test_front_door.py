"""What a person or a client meets first: / leads to the admin, /api/ lists the API, the schema reads in a
browser, and the admin has no dead "View site" link."""

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_root_redirects_to_the_admin(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_the_admin_offers_no_view_site_link_and_has_a_favicon(admin_client, settings):
    settings.WHITENOISE_USE_FINDERS = True  # stands in for what collectstatic gathers in production
    page = admin_client.get("/admin/").content.decode()

    assert "View site" not in page
    assert 'rel="icon" href="/static/crm/favicon.svg"' in page
    assert admin_client.get("/static/crm/favicon.svg").status_code == 200


def test_favicon_ico_leads_anyone_to_the_admins_icon(client, settings):
    settings.WHITENOISE_USE_FINDERS = True  # stands in for what collectstatic gathers in production
    response = client.get("/favicon.ico")  # not logged in: browsers ask for it on the API's pages too

    assert response.status_code == 302 and response["Location"] == "/static/crm/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"


def test_the_api_root_lists_every_endpoint(client):
    response = client.get("/api/")

    assert response.status_code == 200
    assert response.json() == {
        "contacts": "http://testserver/api/contacts/",
        "data_subject_requests": "http://testserver/api/data-subject-requests/",
        "erasures": "http://testserver/api/erasures/",
        "webhook_events": "http://testserver/api/webhook-events/",
        "schema": "http://testserver/api/schema/",
        "docs": "http://testserver/api/docs/",
        "redoc": "http://testserver/api/redoc/",
    }


def test_the_api_root_names_every_collection_the_schema_documents(client):
    listed = {url.removeprefix("http://testserver") for url in client.get("/api/").json().values()}
    schema = client.get("/api/schema/", headers={"accept": "application/vnd.oai.openapi+json"}).json()
    collections = {path for path in schema["paths"] if "{" not in path and path != "/api/schema/"}
    assert collections and collections <= listed, collections - listed


def test_a_browser_reads_the_schema_on_a_page_while_clients_get_yaml_or_json(client):
    browser = client.get("/api/schema/", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    yaml = client.get("/api/schema/")
    json = client.get("/api/schema/", headers={"accept": "application/vnd.oai.openapi+json"})

    assert browser["Content-Type"].startswith("text/html")
    assert "<pre>openapi: 3" in browser.content.decode() and "crm-sync API" in browser.content.decode()
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi") and yaml.content.startswith(b"openapi:")
    assert json.json()["info"]["title"] == "crm-sync API"


def test_the_redoc_page_keeps_everything_on_our_server(client):
    response = client.get("/api/redoc/")
    page = response.content.decode()

    assert "fonts.googleapis.com" not in page and "https://" not in page
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_setup_demo_prints_the_address_it_is_served_on(settings, django_capture_on_commit_callbacks):
    settings.DEBUG = True
    output = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("setup_demo", "--address", "0.0.0.0:8123", "--people", "0", stdout=output)

    assert "Admin: http://0.0.0.0:8123/admin/" in output.getvalue()
    assert "--url http://0.0.0.0:8123/webhooks/timely/" in output.getvalue()
    assert "127.0.0.1:8000" not in output.getvalue()
