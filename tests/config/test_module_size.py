"""No module of ours over 350 lines: past that a module holds more than one idea and its reader loses the
thread. Counted from the source, tests, bench and migrations included."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 350
PACKAGES = ("config", "contacts", "webhooks", "bench", "tests")


def long_modules(root: Path = ROOT) -> list[str]:
    return [
        f"{path.relative_to(root)}: {lines} lines"
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
        if (lines := len(path.read_text().splitlines())) > LIMIT
    ]


def test_no_module_is_over_the_limit():
    found = long_modules()
    assert not found, f"modules over {LIMIT} lines (split them by idea):\n" + "\n".join(found)


def test_a_long_module_is_found(tmp_path):
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "long.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "bench" / "short.py").write_text("x = 1\n" * LIMIT)
    assert long_modules(tmp_path) == [f"bench/long.py: {LIMIT + 1} lines"]
