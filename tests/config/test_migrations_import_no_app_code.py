"""Migrations import no application code, read from the source (imports inside functions included): a
migration must do tomorrow what it did the day it was written, whatever the application's code becomes,
so the logic it needs is written out in it (a custom field deconstructs as the column it is)."""

from importlib import import_module

import pytest
from django.test.utils import override_settings

from tests.config.test_import_rules import ROOT, imported_modules, within

APPS = ("config", "contacts", "webhooks", "bench")
MIGRATIONS = sorted(ROOT.glob("*/migrations/0*.py"))


def test_there_are_migrations_to_read():
    assert len(MIGRATIONS) > 30


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_a_migration_imports_no_application_code(path):
    app_imports = [
        f"line {line}: {module}" for line, module in imported_modules(path) if any(within(module, app) for app in APPS)
    ]
    assert app_imports == []


@override_settings(PHONE_DEFAULT_REGION="BR")
def test_migration_0016_rewrites_only_the_phone_part_of_the_search_text():
    migration = import_module("contacts.migrations.0016_international_phones_typed_with_00")
    typed = "0055 47 99123-4567"
    e164 = migration.international(typed)
    before = "maria souza\nmaria@exemplo.com.br\n005547991234567\nvip\ncont_1\nws_abc123"

    assert e164 == "+5547991234567"
    assert migration.search_text_with(before, typed, e164) == (
        "maria souza\nmaria@exemplo.com.br\n5547991234567\nvip\ncont_1\nws_abc123"
    )
    # Typed with more than a phone's characters, the number as typed was a line of its own: it goes too.
    assert migration.search_text_with("ana\n0055 47 99123-4567 casa\n005547991234567", "0055 47 99123-4567 casa",
                                      e164) == "ana\n5547991234567"  # fmt: skip
