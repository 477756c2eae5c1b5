"""A configured secret shorter than its provider's minimum is a warning of ``manage.py check`` (webhooks.W002),
which names the entry and its length, never the secret."""

import pytest
from django.core.checks import Warning
from django.core.management import call_command

from webhooks.providers.checks import check_webhook_secrets


def with_secrets(settings, provider: str, secrets: list[str]) -> None:
    settings.WEBHOOK_PROVIDERS = {
        **settings.WEBHOOK_PROVIDERS,
        provider: {**settings.WEBHOOK_PROVIDERS[provider], "SECRETS": secrets},
    }


def test_the_test_settings_secrets_pass():
    assert check_webhook_secrets(None) == []


@pytest.mark.parametrize(("provider", "minimum"), [("fpt", 32), ("timely", 16)])
def test_a_secret_one_character_short_of_the_providers_minimum_is_a_warning(settings, provider, minimum):
    long_enough, short = "k" * minimum, "s" * (minimum - 1)
    with_secrets(settings, provider, [long_enough, short])

    problems = check_webhook_secrets(None)

    assert [(type(p), p.id) for p in problems] == [(Warning, "webhooks.W002")]
    message = problems[0].msg
    assert f"Secret 2 of {provider.upper()}_WEBHOOK_SECRETS" in message
    assert f"{minimum - 1} characters" in message and str(minimum) in message
    assert short not in message and short not in problems[0].hint


def test_a_secret_of_exactly_the_minimum_passes(settings):
    with_secrets(settings, "fpt", ["k" * 32])
    assert check_webhook_secrets(None) == []


def test_manage_py_check_reports_it(settings, capsys):
    with_secrets(settings, "fpt", ["too-short"])
    call_command("check")
    assert "webhooks.W002" in capsys.readouterr().err
