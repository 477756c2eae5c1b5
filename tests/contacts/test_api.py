"""GET /api/contacts/: the spec's filters, and pages that incremental sync can trust."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from contacts.models import Contact
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client = APIClient()
    client.force_authenticate(user)
    return client


def set_updated_at(contact, moment):
    # auto_now would overwrite a save(): set the time the way the database would have.
    Contact.objects.filter(pk=contact.pk).update(updated_at=moment)


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def walk(api, url):
    """Every row id served by following `next` from `url`."""
    seen = []
    while url:
        response = api.get(url)
        assert response.status_code == 200
        seen += ids(response)
        url = response.json()["next"]
    return seen


def test_contacts_come_oldest_change_first_with_the_spec_fields(api):
    now = timezone.now()
    newer, older = ContactFactory(), ContactFactory()
    set_updated_at(newer, now)
    set_updated_at(older, now - timedelta(hours=1))

    response = api.get("/api/contacts/")

    assert ids(response) == [older.pk, newer.pk]
    assert set(response.json()["results"][0]) == {
        "id", "provider", "account_id", "external_id", "name", "phone", "email", "avatar_url", "source", "tags",
        "custom_fields", "assigned_to", "status_id", "status", "sub_group_id", "can_sms", "can_email", "can_call",
        "remote_created_at", "remote_updated_at", "needs_refresh", "erased_at", "created_at", "updated_at",
    }  # fmt: skip


def test_updated_since_returns_only_contacts_changed_at_or_after_it(api):
    now = timezone.now()
    before, at, after = ContactFactory(), ContactFactory(), ContactFactory()
    set_updated_at(before, now - timedelta(minutes=1))
    set_updated_at(at, now)
    set_updated_at(after, now + timedelta(minutes=1))

    response = api.get("/api/contacts/", {"updated_since": now.isoformat()})

    assert ids(response) == [at.pk, after.pk]


def test_updated_since_that_is_not_a_date_is_a_400(api):
    response = api.get("/api/contacts/", {"updated_since": "yesterday"})

    assert response.status_code == 400
    assert "updated_since" in response.json()


def test_erased_filter_separates_tombstones(api):
    live = ContactFactory()
    tombstone = ContactFactory(erased=True)

    assert ids(api.get("/api/contacts/", {"erased": "true"})) == [tombstone.pk]
    assert ids(api.get("/api/contacts/", {"erased": "false"})) == [live.pk]


def test_search_matches_name_email_and_phone_however_typed(api):
    ana = ContactFactory(name="Ana Costa Ribeiro", email="ana@exemplo.com.br", phone="+5547991234567")
    ContactFactory(name="Bruno Lima", email="bruno@exemplo.com.br", phone="+5511988887777")

    assert ids(api.get("/api/contacts/", {"search": "costa"})) == [ana.pk]
    assert ids(api.get("/api/contacts/", {"search": "ANA@exemplo"})) == [ana.pk]
    assert ids(api.get("/api/contacts/", {"search": "(47) 99123-4567"})) == [ana.pk]


def test_provider_account_and_external_id_filters(api):
    wanted = ContactFactory(provider="fpt", account_id="loc_1", external_id="c-1")
    ContactFactory(provider="fpt", account_id="loc_2", external_id="c-1")
    ContactFactory(provider="timely", account_id="loc_1", external_id="c-1")

    response = api.get("/api/contacts/", {"provider": "fpt", "account_id": "loc_1", "external_id": "c-1"})

    assert ids(response) == [wanted.pk]


def test_pages_share_a_timestamp_without_skipping_or_repeating(api):
    # Equal updated_at values are where an offset-based cursor goes wrong.
    same_moment = timezone.now()
    contacts = ContactFactory.create_batch(7)
    for contact in contacts:
        set_updated_at(contact, same_moment)

    assert walk(api, "/api/contacts/?page_size=3") == sorted(c.pk for c in contacts)


def test_a_contact_changed_while_paging_is_served_again_later_and_none_is_skipped(api):
    start = timezone.now() - timedelta(hours=1)
    contacts = ContactFactory.create_batch(6)
    for offset, contact in enumerate(contacts):
        set_updated_at(contact, start + timedelta(seconds=offset))

    first = api.get("/api/contacts/?page_size=2")
    # Meanwhile, one already served and one not yet served change.
    set_updated_at(contacts[0], timezone.now())
    set_updated_at(contacts[3], timezone.now() + timedelta(seconds=1))
    rest = walk(api, first.json()["next"])

    served = ids(first) + rest
    assert set(served) == {c.pk for c in contacts}
    assert served == [contacts[0].pk, contacts[1].pk, contacts[2].pk, contacts[4].pk, contacts[5].pk,
                      contacts[0].pk, contacts[3].pk]  # fmt: skip


def test_a_served_contact_leaving_a_group_of_equal_times_does_not_hide_the_rest(api):
    # Where an offset within equal timestamps (DRF's cursor) skips a row: the group shrinks under it.
    same_moment = timezone.now() - timedelta(hours=1)
    first, second, third = ContactFactory.create_batch(3)
    for contact in (first, second, third):
        set_updated_at(contact, same_moment)

    page = api.get("/api/contacts/?page_size=2")
    set_updated_at(first, timezone.now())
    rest = walk(api, page.json()["next"])

    assert ids(page) == [first.pk, second.pk]
    assert rest == [third.pk, first.pk]


def test_previous_link_walks_back_to_the_same_rows(api):
    contacts = ContactFactory.create_batch(5)
    first = api.get("/api/contacts/?page_size=2")
    second = api.get(first.json()["next"])

    back = api.get(second.json()["previous"])

    assert first.json()["previous"] is None
    assert ids(back) == ids(first)
    assert back.json()["next"] is not None
    assert len(walk(api, "/api/contacts/?page_size=2")) == len(contacts)


def test_a_forged_cursor_is_a_400_naming_the_cursor_not_a_500(api):
    response = api.get("/api/contacts/", {"cursor": "bm90LWpzb24"})

    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor."]}


def test_page_size_is_capped(api):
    ContactFactory.create_batch(3)

    response = api.get("/api/contacts/", {"page_size": "2"})

    assert len(ids(response)) == 2
    assert response.json()["next"] is not None


def test_listing_costs_the_same_queries_for_ten_or_fifty_contacts(api, django_assert_max_num_queries):
    ContactFactory.create_batch(10)
    # Permissions, the page, and the access trail's one INSERT.
    with django_assert_max_num_queries(4):
        api.get("/api/contacts/")
    ContactFactory.create_batch(40)
    with django_assert_max_num_queries(4):
        assert len(ids(api.get("/api/contacts/"))) == 50


def test_reading_contacts_needs_the_view_permission():
    client = APIClient()
    client.force_authenticate(UserFactory())

    assert client.get("/api/contacts/").status_code == 403


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_paging_while_contacts_change_skips_none_and_serves_each_change(api, data):
    # Each example has its own account, so examples share the test's database without seeing each other.
    account = f"acc_{uuid4().hex[:10]}"
    start = timezone.now() - timedelta(days=1)
    ties = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=12), label="updated_at offsets (ties)")
    contacts = ContactFactory.create_batch(len(ties), account_id=account)
    for contact, offset in zip(contacts, ties, strict=True):
        set_updated_at(contact, start + timedelta(seconds=offset))
    page_size = data.draw(st.integers(1, 4), label="page_size")
    clock = start + timedelta(hours=1)
    served, changed_at = [], {}

    url, pages = f"/api/contacts/?account_id={account}&page_size={page_size}", 0
    while url:
        response = api.get(url)
        served += ids(response)
        url, pages = response.json()["next"], pages + 1
        if url and pages <= 6:  # contacts change between the first pages; then the feed settles
            for contact in data.draw(st.lists(st.sampled_from(contacts), max_size=2, unique=True), label="changed"):
                clock += timedelta(seconds=1)
                set_updated_at(contact, clock)
                changed_at[contact.pk] = len(served)

    everyone = {contact.pk for contact in contacts}
    assert set(served) == everyone  # none skipped
    for pk in everyone - set(changed_at):
        assert served.count(pk) == 1  # none repeated unless it changed
    for pk, position in changed_at.items():
        assert pk in served[position:]  # a change made while paging is served later
