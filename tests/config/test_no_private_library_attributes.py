"""No private attribute of a library, read from the source: a name with a leading underscore is a library's
to change in any release. Three ways to reach one are looked for: ``thing._name`` on anything but the
module's own ``self``/``cls``; ``getattr(thing, "_name")`` and the like; and ``self._name`` in a class of
ours that a library base class of it also uses (overriding tqdm's ``_ema_dt``). Django's documented model
API is the one exception (``_meta``, ``_default_manager``, ``_state``: https://docs.djangoproject.com/en/5.2/
ref/models/meta/, topics/db/managers/, ref/models/instances/#state)."""

import ast
import inspect
import re
from importlib import import_module

from tests.config.test_import_cycles import project_modules

DOCUMENTED = {"_meta", "_default_manager", "_state"}
PRIVATE = re.compile(r"_[A-Za-z][A-Za-z0-9_]*")
NAME_ARGUMENT = {"getattr", "setattr", "hasattr", "delattr"}


def private_reads(source: str) -> list[tuple[int, str]]:
    """(line, name) of each private attribute reached on something other than ``self``/``cls``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and PRIVATE.fullmatch(node.attr)
            and node.attr not in DOCUMENTED
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append((node.lineno, node.attr))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in NAME_ARGUMENT
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and PRIVATE.fullmatch(node.args[1].value)
        ):
            found.append((node.lineno, node.args[1].value))
    return found


def self_attributes(source: str) -> dict[str, set[str]]:
    """Class name → the private ``self.`` attributes its methods use."""
    used = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            used[node.name] = {
                inner.attr
                for inner in ast.walk(node)
                if isinstance(inner, ast.Attribute)
                and isinstance(inner.value, ast.Name)
                and inner.value.id == "self"
                and PRIVATE.fullmatch(inner.attr)
                and inner.attr not in DOCUMENTED
            }
    return used


def library_bases_using(cls: type, name: str) -> list[str]:
    """The library classes in ``cls``'s MRO whose source names ``name``."""
    found = []
    for base in cls.__mro__[1:]:
        module = base.__module__.split(".")[0]
        if module in ("builtins", "config", "contacts", "webhooks", "bench", "tests"):
            continue
        try:
            source = inspect.getsource(base)
        except (OSError, TypeError):
            source = ""
        if re.search(rf"\b{re.escape(name)}\b", source) or name in vars(base):
            found.append(f"{base.__module__}.{base.__qualname__}")
    return found


def test_no_private_attribute_of_anything_but_our_own_self_is_reached():
    found = [
        f"{path}:{line}: {name}"
        for module, path in project_modules().items()
        for line, name in private_reads(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_no_class_of_ours_uses_a_private_attribute_of_its_library_base():
    found = []
    for module_name, path in project_modules().items():
        if ".migrations." in module_name or module_name.startswith("bench") or path.name == "gunicorn.conf.py":
            continue
        classes = self_attributes(path.read_text(encoding="utf-8"))
        if not any(classes.values()):
            continue
        module = import_module(module_name)
        for class_name, names in classes.items():
            cls = getattr(module, class_name, None)
            if not isinstance(cls, type):
                continue
            for name in sorted(names):
                if bases := library_bases_using(cls, name):
                    found.append(f"{module_name}.{class_name}: self.{name} (from {', '.join(bases)})")
    assert found == []


def test_the_checks_see_the_ways_a_private_attribute_is_reached():
    source = (
        "stream = getattr(stream, '_out', stream)\n"
        "items = receivers._live_receivers(sender)\n"
        "class Bar(tqdm):\n"
        "    def close(self):\n"
        "        self._ema_dt = lambda: None\n"
    )
    assert private_reads(source) == [(1, "_out"), (2, "_live_receivers")]
    assert self_attributes(source) == {"Bar": {"_ema_dt"}}
    from tqdm import tqdm

    assert library_bases_using(type("Bar", (tqdm,), {}), "_ema_dt") == ["tqdm.std.tqdm"]
