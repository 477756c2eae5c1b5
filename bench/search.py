"""The contact search at scale, on PostgreSQL (figures in docs/performance.md › Contact search):

DATABASE_URL=postgres://…/crm_sync_bench_search .venv/bin/python -m bench.search --size 1000000

Migrates the database it is given (a throwaway one: it is filled with made-up contacts), bulk-loads up to
``--size`` contacts with Brazilian names (accents, shared surnames), phones, tags and custom fields, builds
the trigram index once the rows are in (as a real table would have it), then for each search term:
``EXPLAIN (ANALYZE, BUFFERS)`` of the admin's page query and of its count, and the whole admin list page
(``/admin/contacts/contact/?q=…`` through Django's handler), timed. Plans go to
``bench/results/search-<N>.txt``.

``--trail`` also times list pages with and without the access trail (``--trail --no-search``: only that),
alternately in one process against the same rows: the admin's contact list (its first page, and a search),
and a page of the API's contact list, each 100 contacts, so 100 trail rows in one INSERT, whose own time is
measured apart.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

# Base settings (DEBUG off, as in production): the admin page is timed as staff would get it.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# The bench's user is logged in by force_login, with no second factor to pass: it times the page, not the login.
os.environ.setdefault("ADMIN_REQUIRE_2FA", "false")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from bench.scale import copy_rows  # noqa: E402
from config.web.pagination import CappedCountPaginator  # noqa: E402
from contacts.admin import ContactAdmin  # noqa: E402
from contacts.models import Contact  # noqa: E402
from contacts.search import search_document  # noqa: E402
from contacts.selectors import search_contacts  # noqa: E402

FIRST = ["João", "José", "Ana", "Maria", "Conceição", "Sebastião", "Luíza", "Antônio", "Márcia", "Cláudio",
         "Letícia", "Fábio", "Júlia", "Vinícius", "Débora", "Lúcia", "André", "Mônica", "Cássio", "Paulo"]  # fmt: skip
LAST = ["Silva", "Santos", "Oliveira", "Souza", "Ribeiro", "Conceição", "Araújo", "Gonçalves", "Fernandes",
        "Lima", "Gomes", "Costa", "Magalhães", "Brandão", "Simões", "Pereira", "Assunção", "Falcão"]  # fmt: skip
TAGS = ["cliente-vip", "lead-frio", "lead-quente", "inadimplente", "joinville", "curitiba", "recorrente", "novo"]
PLANS = ["Diamante Família", "Ouro Mensal", "Prata Anual", "Bronze", "Experimental"]
# A rare name, a common one, two words in either order, a phone however typed, a tag, a custom field value,
# an id, an email fragment, a term that matches nothing.
TERMS = ["Sebastiao Magalhaes", "joao", "ribeiro ana", "(47) 99123-4567", "cliente-vip", "diamante familia",
         "cont_s123456", "pessoa98765@", "zzzxqy"]  # fmt: skip
INDEX = "contact_search_trgm_idx"
RUNS = 5


def load(size: int) -> None:
    have = Contact.objects.count()
    if have >= size:
        print(f"    {have:,} contacts already loaded")
        return
    rng = random.Random(15)  # the same made-up people on every run
    then = datetime.now(UTC) - timedelta(days=2)
    template = Contact(provider="timely", account_id="ws_bench", source="whatsapp", remote_updated_at=then)

    def rows():
        for i in range(have, size):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
            phone = f"+55{rng.choice([11, 21, 41, 47, 48])}9{rng.randrange(10**8):08d}"
            if i == 123_456:
                phone = "+5547991234567"  # one known number to look up
            email = f"pessoa{i}@exemplo.com.br"
            tags = rng.sample(TAGS, rng.randrange(3))
            custom = {"plano": rng.choice(PLANS)}
            external_id = f"cont_s{i}"
            text = search_document(name=name, email=email, phone=phone, tags=tags, custom_fields=custom,
                                   external_id=external_id, account_id="ws_bench")  # fmt: skip
            yield external_id, name, phone, email, json.dumps(tags), json.dumps(custom), text

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")  # built once after the load, not row by row
    started = time.perf_counter()
    with transaction.atomic():
        copy_rows(Contact, template, ("external_id", "name", "phone", "email", "tags", "custom_fields",
                                      "search_text"), rows())  # fmt: skip
    print(f"    loaded {size - have:,} contacts in {time.perf_counter() - started:.0f} s")


def build_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [INDEX])
        if cursor.fetchone():
            return
        started = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(f'CREATE INDEX {INDEX} ON contacts_contact USING gin (("search_text"::text) gin_trgm_ops)')
        cursor.execute("VACUUM ANALYZE contacts_contact")
        cursor.execute("SELECT pg_size_pretty(pg_relation_size(%s))", [INDEX])
        size = cursor.fetchone()[0]
    print(f"    built {INDEX} ({size}) and vacuumed in {time.perf_counter() - started:.0f} s")


def explain(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def explain_count(queryset, limit: int | None = None) -> str:
    """The plan of counting every match, or (``limit``) of the admin's capped count (config.web.pagination)."""
    sql, params = queryset.order_by().values("pk")[:limit].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM ({sql}) AS matches", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure(out: Path) -> None:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-search", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    total = Contact.objects.count()
    per_page = ContactAdmin.list_per_page
    lines = [f"# Contact search, {total:,} contacts, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", ""]
    table = ["| term | matches | page query | count of every match | the admin's capped count | admin list page "
             "(median of 5) |", "|---|---|---|---|---|---|"]  # fmt: skip
    for term in TERMS:
        matching = search_contacts(Contact.objects.all(), term)
        page = matching.order_by("-updated_at", "-id")[:per_page]
        page_plan, count_plan = explain(page), explain_count(matching)
        capped_plan = explain_count(matching, limit=CappedCountPaginator.cap + 1)
        client.get("/admin/contacts/contact/", {"q": term})  # warm: the first request pays for imports
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            response = client.get("/admin/contacts/contact/", {"q": term})
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        matches = matching.count()
        row = (f"| `{term}` | {matches:,} | {_execution(page_plan)} | {_execution(count_plan)} | "
               f"{_execution(capped_plan)} | {statistics.median(timings):.0f} ms |")  # fmt: skip
        table.append(row)
        print("    " + row)
        lines += [f"## {term!r}: {matches:,} matches", "", "page:", "```", page_plan, "```", "count:", "```",
                  count_plan, "```", "capped count:", "```", capped_plan, "```", ""]  # fmt: skip
    lines[2:2] = [*table, ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"    plans in {out}")


TRAIL_PAGES = [("admin list", "/admin/contacts/contact/", {}), ("admin search `joao`", "/admin/contacts/contact/",
               {"q": "joao"}), ("API page", "/api/contacts/", {"page_size": "100"})]  # fmt: skip
TRAIL_RUNS = 21
TRAIL_MIDDLEWARE = "config.staff.answer_reads.AnswerReadsMiddleware"


def measure_trail() -> None:
    """Each page asked alternately through a client with the access trail and one without it (the same
    settings minus the middleware that hands an answer's reads to the trail): the medians, their ratio, and
    the trail's INSERT alone."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    user, _ = get_user_model().objects.get_or_create(
        username="bench-search", defaults={"is_staff": True, "is_superuser": True}
    )
    with_trail = Client(HTTP_HOST="127.0.0.1")
    with_trail.force_login(user)
    with override_settings(MIDDLEWARE=[name for name in settings.MIDDLEWARE if name != TRAIL_MIDDLEWARE]):
        without_trail = Client(HTTP_HOST="127.0.0.1")  # its handler loads the middleware at its first request
        without_trail.force_login(user)
        for _label, path, params in TRAIL_PAGES:
            assert without_trail.get(path, params).status_code == 200
    inserts = []

    def timed_insert(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if sql.startswith('INSERT INTO "contacts_contactaccess"'):
                inserts.append((time.perf_counter() - started) * 1000)

    print(f"    {Contact.objects.count():,} contacts, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {_load()}")
    print("| page | without the trail | with it | ratio | the trail's INSERT (100 rows) |")
    print("|---|---|---|---|---|")
    for label, path, params in TRAIL_PAGES:
        with_trail.get(path, params)  # warm
        timings = {True: [], False: []}
        inserts.clear()
        for _ in range(TRAIL_RUNS):
            for trail, client in ((False, without_trail), (True, with_trail)):
                with connection.execute_wrapper(timed_insert):
                    started = time.perf_counter()
                    response = client.get(path, params)
                    timings[trail].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
        plain, traced = statistics.median(timings[False]), statistics.median(timings[True])
        print(f"| {label} | {plain:.0f} ms | {traced:.0f} ms | {traced / plain:.2f} | "
              f"{statistics.median(inserts):.1f} ms ({len(inserts)} of {TRAIL_RUNS}) |")  # fmt: skip
    print(f"    {_load()}")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _execution(plan: str) -> str:
    time_line = next(line for line in plan.splitlines() if line.startswith("Execution Time"))
    return time_line.split(":", 1)[1].strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--trail", action="store_true", help="also time list pages with and without the trail")
    parser.add_argument("--no-search", action="store_true", help="skip the search terms' plans and pages")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench.search measures PostgreSQL: set DATABASE_URL to a throwaway PostgreSQL database")
    call_command("migrate", verbosity=0)
    load(args.size)
    build_index()
    if not args.no_search:
        measure(Path("bench/results") / f"search-{args.size}.txt")
    if args.trail:
        measure_trail()


if __name__ == "__main__":
    main()
