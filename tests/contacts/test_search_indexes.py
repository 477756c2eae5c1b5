"""On PostgreSQL the contains-search is served by trigram indexes, not a scan of every contact."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from contacts.selectors import search_contacts
from tests.factories import ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A tiny test table is cheaper to scan; forbid that to see whether an index can serve the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_contains_search_on_name_email_and_phone_can_be_served_by_trigram_indexes():
    ContactFactory.create_batch(5)

    # Unordered: with few rows the planner would rather walk the updated_at index and filter.
    explained = plan(search_contacts(Contact.objects.order_by(), "(47) 99123"))

    for index in ("contact_name_trgm_idx", "contact_email_trgm_idx", "contact_phone_trgm_idx"):
        assert index in explained
    assert "Seq Scan" not in explained


def test_next_api_page_scans_the_updated_at_index_from_the_cursor(admin_client):
    ContactFactory.create_batch(5)
    first = admin_client.get("/api/contacts/?page_size=2").json()
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(first["next"])
    (page_query,) = [q["sql"] for q in queries.captured_queries if 'FROM "contacts_contact"' in q["sql"]]

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {page_query}")
        explained = "\n".join(row[0] for row in cursor.fetchall())

    # Bounded by the cursor in the index itself, so a page costs the same deep into 100k rows.
    assert "contact_updated_idx" in explained
    assert "Index Cond: (updated_at >=" in explained
