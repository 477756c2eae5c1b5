"""The layers, read from the source: ``config`` is the bottom layer and imports no app (but ``config/urls.py``,
which routes to both); ``contacts`` reads ``webhooks`` only through the bridge (``webhooks.bridge``,
``webhooks.events``, ``webhooks.signals``); ``webhooks`` imports nothing of ``contacts``. Every import counts,
those inside functions and those made from a string (``import_module``, ``import_string``) included, and so do the
migrations (none needs an exception)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_NAMES = ("contacts", "webhooks")
BRIDGE = ("webhooks.bridge", "webhooks.events", "webhooks.signals")
DYNAMIC_IMPORTS = {"import_module", "import_string", "__import__"}


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in the file, relative ones resolved; ``from a import b`` counts
    as ``a.b`` (``b`` may be a module: ``from webhooks import models``)."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in DYNAMIC_IMPORTS
            and node.args
            and (name := _literal_prefix(node.args[0])) is not None
        ):
            found.append((node.lineno, name))
    return sorted(found)


def _called_name(func) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _literal_prefix(argument) -> str | None:
    """A string argument, or the constant start of an f-string (``f"webhooks.providers.{name}"``)."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.JoinedStr) and argument.values and isinstance(argument.values[0], ast.Constant):
        return str(argument.values[0].value)
    return None


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def config_rule(path: str, module: str) -> str | None:
    if path == "config/urls.py":
        return None  # the URL map routes to both apps: the one place config names them
    if within(module, "contacts") or within(module, "webhooks"):
        return "config imports no app"
    return None


def contacts_rule(path: str, module: str) -> str | None:
    if within(module, "webhooks") and not any(within(module, bridge) for bridge in BRIDGE):
        return f"contacts reads webhooks only through {', '.join(BRIDGE)}"
    return None


def webhooks_rule(path: str, module: str) -> str | None:
    return "webhooks imports nothing of contacts" if within(module, "contacts") else None


RULES = {"config": config_rule, "contacts": contacts_rule, "webhooks": webhooks_rule}


def violations(package: str, root: Path = ROOT) -> list[str]:
    """``file:line: imports module (rule)`` for every import of the package's files that breaks its rule."""
    rule = RULES[package]
    return [
        f"{name}:{line}: imports {module} ({problem})"
        for path in sorted((root / package).rglob("*.py"))
        for line, module in imported_modules(path, root)
        if (problem := rule(name := path.relative_to(root).as_posix(), module)) is not None
    ]


@pytest.mark.parametrize("package", sorted(RULES))
def test_the_layers_hold(package):
    found = violations(package)
    assert not found, "imports across the layers:\n" + "\n".join(found)


def test_every_kind_of_import_is_seen(tmp_path):
    """The reader finds what the rules must catch: a top-level import, one inside a function, a relative one,
    ``from package import module``, and one made from a string."""
    source = tmp_path / "config" / "sub" / "module.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "import webhooks.models\n"
        "def view():\n"
        "    from contacts.selectors import contact_counts\n"
        "from .. import metrics\n"
        "from webhooks import signals\n"
        "import_string('contacts.services.erase_contact')\n"
        "importlib.import_module(f'webhooks.providers.{name}')\n"
    )
    assert imported_modules(source, tmp_path) == [
        (1, "webhooks.models"),
        (3, "contacts.selectors.contact_counts"),
        (4, "config.metrics"),
        (5, "webhooks.signals"),
        (6, "contacts.services.erase_contact"),
        (7, "webhooks.providers."),
    ]
    (tmp_path / "config" / "urls.py").write_text("from contacts import api_urls\n")
    assert violations("config", tmp_path) == [
        "config/sub/module.py:1: imports webhooks.models (config imports no app)",
        "config/sub/module.py:3: imports contacts.selectors.contact_counts (config imports no app)",
        "config/sub/module.py:5: imports webhooks.signals (config imports no app)",
        "config/sub/module.py:6: imports contacts.services.erase_contact (config imports no app)",
        "config/sub/module.py:7: imports webhooks.providers. (config imports no app)",
    ]


def test_the_bridge_is_all_contacts_may_read_of_webhooks():
    path = "contacts/x.py"
    assert contacts_rule(path, "webhooks.events.ContactEvent") is None
    assert contacts_rule(path, "webhooks.signals") is None
    assert contacts_rule(path, "webhooks.bridge.stored_events") is None
    assert contacts_rule(path, "webhooks.stored_events") is not None  # the implementation is not the contract
    assert contacts_rule(path, "webhooks.models.WebhookEvent") is not None
    assert contacts_rule(path, "webhooks.eventsx") is not None  # a prefix of a name is not the module
    assert contacts_rule(path, "webhooks") is not None


def dotted_paths_in_settings(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """Every string in the settings modules that names a module of ours by its dotted path."""
    found = []
    for path in sorted((root / "config" / "settings").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names_ours = isinstance(node, ast.Constant) and isinstance(node.value, str) and "/" not in node.value
            if names_ours and any(within(node.value, package) for package in APP_NAMES):
                found.append((path.name, node.lineno, node.value))
    return sorted(found)


def test_no_setting_names_a_module_of_an_app():
    """Settings belong to config, the lowest layer: a setting that names ``webhooks.views.something`` is an
    import upwards that the rules above cannot see. Only INSTALLED_APPS names the apps themselves."""
    named = [(name, line, value) for name, line, value in dotted_paths_in_settings() if value not in APP_NAMES]
    assert not named, f"settings naming app modules: {named}"


def test_the_settings_check_sees_a_dotted_path(tmp_path):
    settings_dir = tmp_path / "config" / "settings"
    settings_dir.mkdir(parents=True)
    (settings_dir / "base.py").write_text('INSTALLED_APPS = ["contacts"]\nCLIENT_IP = "webhooks.views.ip"\n')
    assert dotted_paths_in_settings(tmp_path) == [("base.py", 1, "contacts"), ("base.py", 2, "webhooks.views.ip")]
