"""``python -m config.demo_env``: the local ``.env`` that ``make run`` writes when there is none. It is
``.env.example`` with a fresh random secret for every configured provider (``<NAME>_WEBHOOK_SECRETS``, the
variable ``config.settings.base.webhook_provider`` reads), so the demo can sign its own deliveries. The
providers come from the settings: a provider added there gets its secret without anything else changing."""

import os
import re
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def demo_env_text(example: str, provider_names: Iterable[str]) -> str:
    """``example`` with each provider's secrets variable set to a fresh secret: its empty line filled in,
    or a line added when the example has none."""
    text = example if example.endswith("\n") or not example else example + "\n"
    for name in provider_names:
        line = f"{name.upper()}_WEBHOOK_SECRETS={secrets.token_urlsafe(32)}"
        empty = re.compile(rf"^{re.escape(name.upper())}_WEBHOOK_SECRETS=[ \t]*$", re.MULTILINE)
        text, found = empty.subn(lambda _match, line=line: line, text, count=1)
        if not found:
            text += line + "\n"
    return text


def main(target: Path = ROOT / ".env") -> None:
    if target.exists():
        return  # never replace secrets someone already uses
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.conf import settings

    example = (ROOT / ".env.example").read_text()
    target.write_text(demo_env_text(example, sorted(settings.WEBHOOK_PROVIDERS)))
    target.chmod(0o600)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".env")
