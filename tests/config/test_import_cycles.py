"""No import cycle among the project's modules, read from the source: every import counts, those inside
functions included (a function-level import hides a cycle, it does not remove it), and so do the
migrations and the bench. A package imports what its ``__init__`` imports."""

from pathlib import Path

from tests.config.test_import_rules import ROOT, imported_modules

PACKAGES = ("config", "contacts", "webhooks", "bench")


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the project modules it imports (``from a import b`` names ``a.b`` when that is a module,
    else ``a``)."""
    modules = project_modules(root)

    def resolved(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in modules.items():
        targets = {resolved(name) for _line, name in imported_modules(path, root)}
        graph[module] = {target for target in targets if target and target != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that comes back to its start) per strongly connected group of modules."""
    found, done = [], set()
    for start in sorted(graph):
        if start in done:
            continue
        path, on_path, stack = [], {}, [(start, iter(sorted(graph[start])))]
        path.append(start)
        on_path[start] = 0
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                done.add(path.pop())
                del on_path[node]
            elif child in on_path:
                found.append([*path[on_path[child] :], child])
            elif child not in done and child in graph:
                on_path[child] = len(path)
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return found


def test_no_module_of_the_project_imports_itself_through_others():
    assert cycles(import_graph()) == []


def test_the_check_finds_a_cycle_made_by_an_import_inside_a_function(tmp_path):
    (tmp_path / "contacts").mkdir()
    (tmp_path / "contacts" / "__init__.py").write_text("")
    (tmp_path / "contacts" / "models.py").write_text("from contacts.search import SearchTextField\n")
    (tmp_path / "contacts" / "search.py").write_text(
        "def search():\n    from contacts.normalize import normalize_phone\n"
    )
    (tmp_path / "contacts" / "normalize.py").write_text("from contacts import models\n")
    for package in ("config", "webhooks", "bench"):
        (tmp_path / package).mkdir()

    found = cycles(import_graph(tmp_path))

    assert found == [["contacts.models", "contacts.search", "contacts.normalize", "contacts.models"]]
