"""Each provider's settings are declared once (config/settings/base.py), from variables named after it; the
test settings replace values only."""

import importlib

import pytest

from config.settings import base
from config.settings import test as test_settings


@pytest.fixture
def reload_base(monkeypatch):
    """``config.settings.base`` read again under the given environment; read back as it was afterwards."""

    def reload(**environment):
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return importlib.reload(base)

    yield reload
    monkeypatch.undo()
    importlib.reload(base)
    importlib.reload(test_settings)


@pytest.mark.parametrize(
    "environment",
    [
        {
            "TIMELY_WEBHOOK_SECRETS": "new,old",
            "TIMELY_ACCOUNT_IDS": "ws_1,ws_2",
            "TIMELY_IGNORE_ACTORS": "usr_bot",
            "FPT_WEBHOOK_SECRETS": "fpt-secret",
            "FPT_ACCOUNT_IDS": "48213,48214",
        },
        # As operators write them: whitespace around entries is ignored, empty entries dropped.
        {
            "TIMELY_WEBHOOK_SECRETS": "new, old",
            "TIMELY_ACCOUNT_IDS": " ws_1 ,, ws_2 ",
            "TIMELY_IGNORE_ACTORS": "usr_bot , ",
            "FPT_WEBHOOK_SECRETS": " ,fpt-secret ,",
            "FPT_ACCOUNT_IDS": "48213, 48214",
        },
    ],
)
def test_every_provider_reads_its_own_variables(reload_base, environment):
    read = reload_base(**environment)
    assert read.WEBHOOK_PROVIDERS == {
        "timely": {"SECRETS": ["new", "old"], "ACCOUNT_IDS": ["ws_1", "ws_2"], "IGNORE_ACTORS": ["usr_bot"]},
        "fpt": {"SECRETS": ["fpt-secret"], "ACCOUNT_IDS": ["48213", "48214"]},
    }


def test_a_list_of_only_commas_and_spaces_configures_no_secret(reload_base):
    read = reload_base(TIMELY_WEBHOOK_SECRETS=" , ,")
    assert read.WEBHOOK_PROVIDERS["timely"]["SECRETS"] == []


def test_a_contact_fetcher_is_read_for_every_configured_provider(reload_base):
    read = reload_base(TIMELY_CONTACT_FETCHER="myproject.timely_api.fetch", FPT_CONTACT_FETCHER="myproject.fpt.fetch")
    assert read.CONTACT_FETCHERS == {"timely": "myproject.timely_api.fetch", "fpt": "myproject.fpt.fetch"}


def test_the_test_settings_keep_the_entries_structure_and_replace_their_values(reload_base):
    declared = reload_base(TIMELY_ACCOUNT_IDS="ws_from_a_developers_shell", FPT_WEBHOOK_SECRETS="real")
    tested = importlib.reload(test_settings).WEBHOOK_PROVIDERS
    declared = declared.WEBHOOK_PROVIDERS

    assert {name: set(entry) for name, entry in tested.items()} == {name: set(e) for name, e in declared.items()}
    assert declared["timely"]["ACCOUNT_IDS"] == ["ws_from_a_developers_shell"]
    assert tested["timely"]["ACCOUNT_IDS"] == []
    assert tested["fpt"]["SECRETS"] == ["fpt-test-secret-0123456789abcdef0123"]
