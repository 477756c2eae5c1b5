"""Raw SQL lives in config/db only: the apps and the rest of config speak the ORM and call config.db for
what the ORM cannot say (advisory locks, NOTIFY/LISTEN, set-based writes, statistics). Read from the
source: a cursor, ``execute``, ``raw``, ``RawSQL`` or ``extra`` anywhere else fails here."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW = {"cursor", "execute", "executemany", "raw", "RawSQL", "extra"}


def raw_sql_uses(root: Path = ROOT) -> list[str]:
    found = []
    for package in ("config", "contacts", "webhooks"):
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative.startswith(("config/db/", "config/settings/")) or "/migrations/" in relative:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                    if name in RAW:
                        found.append(f"{relative}:{node.lineno}: {name}()")
    return found


def test_no_raw_sql_outside_config_db():
    found = raw_sql_uses()
    assert not found, "raw SQL outside config/db:\n" + "\n".join(found)


def test_a_cursor_in_an_app_is_found(tmp_path):
    (tmp_path / "webhooks").mkdir()
    (tmp_path / "webhooks" / "views.py").write_text("with connection.cursor() as c:\n    c.execute('SELECT 1')\n")
    (tmp_path / "config" / "db").mkdir(parents=True)
    (tmp_path / "config" / "db" / "locks.py").write_text("connection.cursor()\n")
    assert raw_sql_uses(tmp_path) == ["webhooks/views.py:1: cursor()", "webhooks/views.py:2: execute()"]
