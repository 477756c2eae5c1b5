"""Hostile values in every admin list filter, search box and date drill-down, and in every API filter and
cursor: never a 500, on either database.

The parameters are discovered, not listed: from each registered ModelAdmin's ``list_filter`` (each filter's
own ``expected_parameters()``), ``search_fields`` and ``date_hierarchy``, and from the OpenAPI document's
query parameters, so a filter added later is covered without touching this file. The values are what
broke things: NUL, time-zone offsets up to ±23:59, years 0 and 99999, 10,000 characters, integers past
64 bits, percent-escapes that are not UTF-8, and API cursors crafted to decode into such values.
"""

import base64
import json
from urllib.parse import quote, urlencode

import pytest
from django.contrib import admin
from django.contrib.admin import FieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from contacts.models import Contact
from tests.conftest import load_fixture
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory

pytestmark = [
    pytest.mark.django_db,
    # A time without an offset is one of the values tried; Django warns that it takes it as local time.
    pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning"),
]

# Each parameter group gets this many generated requests: enough to meet every kind of value below a
# few times, few enough that the whole file stays within seconds on both databases.
EXAMPLES_PER_GROUP = 12

# --- Hostile values -----------------------------------------------------------------------------------
YEARS = st.sampled_from([0, 1, 1899, 9999, 10000, 99999]) | st.integers(min_value=0, max_value=99999)
OFFSETS = st.builds(
    lambda sign, hours, minutes: f"{sign}{hours:02d}:{minutes:02d}",
    st.sampled_from("+-"),
    st.sampled_from([15, 16, 23]) | st.integers(min_value=0, max_value=23),
    st.sampled_from([0, 59]) | st.integers(min_value=0, max_value=59),
)
DATETIMES = st.builds(
    lambda year, month, day, offset: f"{year:04d}-{month:02d}-{day:02d}T00:00:00{offset}",
    YEARS,
    st.integers(min_value=0, max_value=13),
    st.integers(min_value=0, max_value=32),
    OFFSETS | st.sampled_from(["Z", ""]),
)
DATES = st.builds(
    lambda year, month, day: f"{year:04d}-{month:02d}-{day:02d}", YEARS, st.integers(1, 12), st.integers(1, 31)
)
WITH_NUL = st.builds(lambda before, after: f"{before}\x00{after}", st.text(max_size=8), st.text(max_size=8))
NUMBERS = st.integers(min_value=-(10**30), max_value=10**30).map(str) | st.sampled_from(["9" * 10_000, "-0", "1e999"])
LONG = st.sampled_from(["a" * 10_000, "\u00e9" * 10_000, "%" * 10_000, "0" * 10_000])
VALUES = st.one_of(DATETIMES, DATES, YEARS.map(str), WITH_NUL, NUMBERS, LONG, st.text(max_size=20))
# Escapes that decode to no UTF-8 character: a lone continuation byte, overlong forms, an encoded surrogate.
NOT_UTF8 = st.sampled_from(["%ff", "%fe%ff", "%80", "%c0%80", "%ed%a0%80", "%f8%88%80%80%80", "%e2%82"])


def encoded(values=VALUES):
    """One query-string value, already percent-encoded: a hostile value, or one spliced with non-UTF-8."""
    plain = values.map(lambda value: quote(value, safe=""))
    spliced = st.builds(lambda value, escape: value + escape, plain, NOT_UTF8)
    return plain | spliced | NOT_UTF8


def query_strings(parameters: list[str]):
    """A query string setting one or more of ``parameters`` (a group read together) to hostile values."""
    pairs = st.lists(st.tuples(st.sampled_from(parameters), encoded()), min_size=1, max_size=3)
    return pairs.map(lambda items: "&".join(f"{quote(name)}={value}" for name, value in items))


# --- Admin --------------------------------------------------------------------------------------------
REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def admin_parameter_groups(model, model_admin, request) -> list[list[str]]:
    """The query parameters each list filter reads (as the changelist builds it), the search box, and the
    date drill-down, one group each."""
    groups = []
    for list_filter in model_admin.get_list_filter(request):
        if isinstance(list_filter, type):  # a SimpleListFilter (or a FieldListFilter without a field: none)
            spec = list_filter(request, {}, model, model_admin)
        else:
            field_path, filter_class = list_filter if isinstance(list_filter, tuple | list) else (list_filter, None)
            field = get_fields_from_path(model, field_path)[-1]
            create = filter_class or FieldListFilter.create
            spec = create(field, request, {}, model, model_admin, field_path=field_path)
        groups.append(spec.expected_parameters())
    if model_admin.get_search_fields(request):
        groups.append(["q"])
    if model_admin.date_hierarchy:
        groups.append([f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")])
    return groups


@pytest.fixture
def rows(post_webhook):
    """A few rows of each kind, so filters, counts and drill-downs run over real data."""
    ContactFactory(source="instagram", status="Members", sub_group_id="7")
    ContactFactory(provider="fpt", account_id="1", erased=True, erased_at="2026-04-19T16:00:00Z")
    WebhookEventFactory()
    assert post_webhook("timely", load_fixture("timely", "contact.deleted")).status_code == 200


def test_every_registered_admin_is_discovered_with_its_filters(admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    groups = {
        model._meta.label: admin_parameter_groups(model, model_admin, request) for model, model_admin in REGISTERED
    }
    assert ["q"] in groups["contacts.Contact"] and ["erased"] in groups["contacts.Contact"]
    assert ["sub_group_id", "sub_group_id__isnull"] in groups["contacts.Contact"]
    erasure_groups = groups["contacts.ErasureRecord"]
    assert ["erased_at__gte", "erased_at__lt"] in erasure_groups
    assert ["requested_by_type", "requested_by_type__isnull"] in erasure_groups
    assert ["erased_at__year", "erased_at__month", "erased_at__day"] in erasure_groups
    assert ["reason", "reason__isnull"] in groups["webhooks.RejectedDelivery"]
    assert ["signature_form", "signature_form__isnull"] in groups["webhooks.WebhookEvent"]
    assert ["q"] in groups["auth.User"]  # Django's own admins are covered too


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[model._meta.label for model, _ in REGISTERED])
def test_hostile_admin_filters_and_searches_are_invalid_filters_never_errors(
    client, admin_user, rows, model, model_admin
):
    client.force_login(admin_user)
    request = RequestFactory().get("/")
    request.user = admin_user
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    for parameters in admin_parameter_groups(model, model_admin, request):

        @settings(max_examples=EXAMPLES_PER_GROUP, deadline=None)
        @given(query=query_strings(parameters))
        def answers_without_error(query):
            # A savepoint per request: should one fail in the database anyway, the next still runs.
            with transaction.atomic():
                response = client.get(f"{url}?{query}")
            assert response.status_code in (200, 302), (query, response.status_code)
            if response.status_code == 302:  # Django's own "invalid filter" handling
                assert response["Location"] == f"{url}?e=1", query

        answers_without_error()


@pytest.mark.parametrize(
    "query",
    [
        "status=%00", "provider=%00", "source=%00", "sub_group_id=%00", "erased=%00",
        "status__exact=%00", "provider__exact=%00", "source__exact=%00", "sub_group_id__exact=%00",
    ],
)  # fmt: skip
def test_a_nul_in_a_contact_filter_is_refused_or_ignored(admin_client, rows, query):
    url = reverse("admin:contacts_contact_changelist")
    response = admin_client.get(f"{url}?{query}")
    # Unknown names (`status`) and NUL values both end on Django's invalid-filter redirect; the erased
    # filter ignores a value it does not know, listing everything.
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"] == f"{url}?e=1"


@pytest.mark.parametrize(
    "query",
    [
        "erased_at__gte=2026-01-01T00:00:00%2B16:00",
        "erased_at__gte=0001-01-01T00:00:00%2B15:00",
        "erased_at__lt=9999-12-31T23:59:59-15:00",
        "erased_at__year=9999",
        "erased_at__year=9999&erased_at__month=12",
        "erased_at__year=0",
        "requested_by_type=%00",
    ],
)
def test_hostile_erasure_log_filters_redirect_to_the_invalid_filter_page(admin_client, rows, query):
    url = reverse("admin:contacts_erasurerecord_changelist")
    response = admin_client.get(f"{url}?{query}")
    if query.startswith("erased_at__gte=2026") and connection.vendor == "sqlite":
        # SQLite converts the time to UTC and compares it: a correct answer, not an error.
        assert response.status_code == 200
        return
    assert response.status_code == 302
    assert response["Location"] == f"{url}?e=1"


@pytest.mark.parametrize("model", [model for model, model_admin in REGISTERED if model_admin.search_fields])
@pytest.mark.parametrize("term", ["%00", "zzz%00yyy", "a%00b"])
def test_a_search_term_holding_a_nul_is_an_invalid_filter_in_every_admin(admin_client, rows, model, term):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = admin_client.get(f"{url}?q={term}")
    assert response.status_code == 302
    assert response["Location"] == f"{url}?e=1"


def test_the_contacts_export_of_a_search_holding_a_nul_exports_nothing(admin_client, rows):
    assert Contact.objects.exists()  # there is something an unfiltered export would leak
    response = admin_client.get(reverse("admin:contacts_contact_export") + "?q=a%00b")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:contacts_contact_changelist") + "?e=1"


def test_the_erasure_log_export_refuses_the_same_filters_as_its_list(admin_client, rows):
    url = reverse("admin:contacts_erasurerecord_export")
    response = admin_client.get(f"{url}?erased_at__year=9999&erased_at__month=12")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:contacts_erasurerecord_changelist") + "?e=1"


# --- API ----------------------------------------------------------------------------------------------
def id_cursors():
    """DRF cursors (base64 of ``o=&r=&p=``) whose position is hostile."""
    tokens = st.fixed_dictionaries(
        {"p": VALUES},
        optional={"o": NUMBERS | YEARS.map(str), "r": st.sampled_from(["0", "1", "2", "\x00"])},
    )
    return tokens.map(lambda token: base64.b64encode(urlencode(token).encode()).decode())


def updated_at_cursors():
    """``(updated_at, id)`` cursors (base64 of JSON) whose time or id is hostile."""
    tokens = st.fixed_dictionaries(
        {
            "b": st.booleans() | st.none(),
            "v": DATETIMES | st.integers() | st.none(),
            "k": st.integers(min_value=-(2**80), max_value=2**80) | st.sampled_from(["x", None, 1.5]),
        }
    )
    return tokens.map(lambda token: urlsafe_b64(json.dumps(token)))


def urlsafe_b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


CURSOR_VALUES = st.one_of(VALUES, id_cursors(), updated_at_cursors())


@pytest.fixture
def api_reader(client, rows):
    reader = UserFactory(username="api-reader")
    reader.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_contact", "view_webhookevent", "view_erasurerecord", "view_datasubjectrequest"]
        )
    )
    return {"Authorization": f"Token {Token.objects.create(user=reader).key}"}


def api_query_parameters(client) -> list[tuple[str, str]]:
    """(list endpoint, query parameter) for every query parameter the OpenAPI document declares."""
    document = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).json()
    return [
        (path, parameter["name"])
        for path, operations in document["paths"].items()
        if "{" not in path and "get" in operations
        for parameter in operations["get"].get("parameters", [])
        if parameter["in"] == "query"
    ]


def test_every_api_filter_and_cursor_is_discovered(client):
    parameters = api_query_parameters(client)
    assert {("/api/contacts/", "updated_since"), ("/api/contacts/", "cursor"), ("/api/webhook-events/", "cursor"),
            ("/api/erasures/", "external_id"), ("/api/webhook-events/", "status"),
            ("/api/data-subject-requests/", "due_before")} <= set(parameters)  # fmt: skip


def test_hostile_api_filters_and_cursors_are_400_naming_the_field_never_errors(client, api_reader):
    for path, name in api_query_parameters(client):
        check_api_parameter(client, api_reader, path, name)


def check_api_parameter(client, headers, path: str, name: str):
    @settings(max_examples=EXAMPLES_PER_GROUP, deadline=None)
    @given(value=encoded(CURSOR_VALUES if name == "cursor" else VALUES))
    def answers_without_error(value):
        with transaction.atomic():
            response = client.get(f"{path}?{quote(name)}={value}", headers=headers)
        assert response.status_code in (200, 400), (path, name, value, response.status_code)
        if response.status_code == 400:
            assert list(response.json()) == [name], (path, name, value, response.json())

    answers_without_error()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("updated_since=2026-01-01T00:00:00%2B16:00", "updated_since"),
        ("updated_since=2026-01-01T00:00:00-23:59", "updated_since"),
        ("updated_since=0001-01-01T00:00:00%2B15:00", "updated_since"),
        ("updated_since=0000-01-01T00:00:00Z", "updated_since"),
        ("updated_since=99999-01-01T00:00:00Z", "updated_since"),
        ("provider=%00", "provider"),
        ("search=%00", "search"),
        ("cursor=" + urlsafe_b64('{"b":false,"v":"2026-01-01T00:00:00+16:00","k":1}'), "cursor"),
        ("cursor=" + urlsafe_b64('{"b":false,"v":"2026-01-01T00:00:00Z","k":99999999999999999999}'), "cursor"),
    ],
)  # fmt: skip
def test_contact_filters_the_database_cannot_take_are_400_naming_the_field(client, api_reader, query, field):
    response = client.get(f"/api/contacts/?{query}", headers=api_reader)
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize("position", ["abc", "1\x00", "9" * 30, "-99999999999999999999"])
def test_a_crafted_id_cursor_is_400(client, api_reader, position):
    cursor = base64.b64encode(urlencode({"p": position}).encode()).decode()
    response = client.get(f"/api/webhook-events/?cursor={quote(cursor)}", headers=api_reader)
    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor."]}


def test_a_valid_time_in_a_far_offset_still_filters(client, api_reader):
    # ±15:59 is the edge PostgreSQL accepts: still a filter, not an error.
    response = client.get("/api/contacts/?updated_since=2000-01-01T00:00:00%2B15:59", headers=api_reader)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
