"""On PostgreSQL the contains-search is served by the trigram index on search_text, not a scan of every
contact (figures at 1,000,000 contacts: docs/performance.md)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from contacts.selectors import distinct_values, search_contacts
from tests.factories import ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A tiny test table is cheaper to scan; forbid that to see whether an index can serve the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def plan_sql(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("term", ["ribeiro ana", "(47) 99123", "cliente-vip"])
def test_search_by_words_phone_or_tag_can_be_served_by_the_trigram_index(term):
    ContactFactory.create_batch(5)

    # Unordered: with few rows the planner would rather walk the updated_at index and filter.
    explained = plan(search_contacts(Contact.objects.order_by(), term))

    assert "contact_search_trgm_idx" in explained
    assert "Seq Scan" not in explained


def test_the_old_per_column_trigram_indexes_are_gone():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'contacts_contact'")
        indexes = {row[0] for row in cursor.fetchall()}

    assert "contact_search_trgm_idx" in indexes
    assert not indexes & {"contact_name_trgm_idx", "contact_email_trgm_idx", "contact_phone_trgm_idx"}


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


def test_the_list_filters_values_come_from_their_indexes_not_a_scan():
    for source, status in [("whatsapp", "Members"), ("instagram", ""), ("whatsapp", "Leads"), ("", "Members")]:
        ContactFactory(source=source, status=status)

    with CaptureQueriesContext(connection) as queries:
        sources, statuses = distinct_values("source"), distinct_values("status")
    explained = plan_sql(queries.captured_queries[0]["sql"])

    assert sources == ["", "instagram", "whatsapp"] and statuses == ["", "Leads", "Members"]
    assert "contact_source_idx" in explained and "Seq Scan" not in explained
