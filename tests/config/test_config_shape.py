"""config/ stays a shape a maintainer can hold: settings, urls, wsgi/asgi, the admin site and a few entry
points at its top level, everything else in a sub-package named for its concern."""

from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / "config"
TOP_LEVEL_LIMIT = 12
CONCERNS = {"settings", "formats", "staff", "db", "web", "ops", "values"}


def test_config_has_at_most_twelve_top_level_modules():
    modules = sorted(path.name for path in CONFIG.glob("*.py"))
    assert len(modules) <= TOP_LEVEL_LIMIT, modules


def test_every_sub_package_is_a_named_concern():
    packages = {path.name for path in CONFIG.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert packages == CONCERNS
