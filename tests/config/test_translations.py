"""The admin in English and Brazilian Portuguese, chosen by the browser: every string of ours is translated
in locale/pt_BR, and the committed .mo is the compiled .po (nobody needs gettext to run the app)."""

import ast
import gettext
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import ContactFactory

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "locale" / "pt_BR" / "LC_MESSAGES"
SOURCES = ["config", "contacts", "webhooks", "templates", "manage.py"]


def msgids(po: Path) -> set[str]:
    """The singular msgids of a .po file (the header's empty one left out), a msgid with a context as gettext
    keys it: "context\x04msgid"."""
    found, current, key, context = set(), [], None, ""
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith(('msgctxt "', 'msgid "', 'msgid_plural "', "msgstr")) or not line.startswith('"'):
            if key == "msgid" and "".join(current):
                found.add(f"{context}\x04{''.join(current)}" if context else "".join(current))
                context = ""
            elif key == "msgctxt":
                context = "".join(current)
            key, current = None, []
            if line.startswith('msgid "'):
                key, current = "msgid", [ast.literal_eval(line[len("msgid ") :])]
            elif line.startswith('msgctxt "'):
                key, current = "msgctxt", [ast.literal_eval(line[len("msgctxt ") :])]
        elif key in ("msgid", "msgctxt"):
            current.append(ast.literal_eval(line))
    return found


def committed_catalog() -> dict:
    with open(CATALOG / "django.mo", "rb") as mo:
        return gettext.GNUTranslations(mo)._catalog


def makemessages_arguments() -> list[str]:
    """The arguments `make messages` gives makemessages, read from the Makefile: the test runs what the target runs."""
    recipe = next(line for line in (ROOT / "Makefile").read_text().splitlines() if "manage.py makemessages" in line)
    return shlex.split(recipe.split("manage.py", 1)[1])


def catalog_of(po: Path) -> dict:
    mo = po.with_suffix(".mo")
    subprocess.run(["msgfmt", "-o", str(mo), str(po)], check=True)
    with open(mo, "rb") as compiled:
        return {key: text for key, text in gettext.GNUTranslations(compiled)._catalog.items() if key != ""}


@pytest.fixture(scope="module")
def refreshed_po(tmp_path_factory) -> Path:
    """The catalog as `make messages` leaves it, run on a copy of the code and of the committed catalog."""
    copy = tmp_path_factory.mktemp("tree")
    for name in [*SOURCES, "locale"]:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / name)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", *makemessages_arguments()],
        cwd=copy, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return copy / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"


def test_every_string_of_ours_has_a_portuguese_translation(refreshed_po):
    """Every string makemessages extracts from our code is translated in the committed .mo."""
    extracted = msgids(refreshed_po)
    translated = {key[0] if isinstance(key, tuple) else key for key, text in committed_catalog().items() if text}

    assert len(extracted) > 150  # the extraction did find our strings
    assert sorted(extracted - translated) == []


def test_make_messages_keeps_every_committed_translation(refreshed_po):
    """`make messages` on an unchanged tree drops no entry and changes no translation (nothing goes fuzzy):
    an entry it would drop is one no code uses any more, to be removed from the .po."""
    committed_po = CATALOG / "django.po"

    assert sorted(msgids(committed_po) - msgids(refreshed_po)) == []
    assert catalog_of(refreshed_po) == catalog_of(shutil.copy(committed_po, refreshed_po.parent / "committed.po"))


def test_the_committed_mo_is_the_compiled_po(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(CATALOG / "django.po")], check=True)
    with open(fresh, "rb") as mo:
        assert gettext.GNUTranslations(mo)._catalog == committed_catalog()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "expected", "absent"),
    [("pt-BR,pt;q=0.9,en;q=0.8", ["Exportar CSV", "Contatos", "Situação"], ["Export CSV"]),
     ("en-US,en;q=0.9", ["Export CSV", "Contacts"], ["Exportar CSV"]),
     ("de-DE", ["Export CSV"], ["Exportar CSV"])],
)  # fmt: skip
def test_the_browser_chooses_the_language(admin_client, accept_language, expected, absent):
    ContactFactory(tags=["vip"])
    page = admin_client.get(reverse("admin:contacts_contact_changelist"), headers={"accept-language": accept_language})
    text = page.content.decode()

    for phrase in expected:
        assert phrase in text
    for phrase in absent:
        assert phrase not in text


@pytest.mark.parametrize("kind", ["--only-fuzzy", "--untranslated"])
def test_the_committed_catalog_has_no_fuzzy_or_untranslated_entry(kind):
    """A fuzzy entry is left out of the .mo (its English shows), an empty one too: neither is committed."""
    found = subprocess.run(["msgattrib", kind, "--no-obsolete", str(CATALOG / "django.po")],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    entries = [line for line in found.splitlines() if line.startswith("msgid ") and line != 'msgid ""']

    assert entries == []
