"""Without Chromium the browser tests skip with a reason on a developer's machine and fail in CI."""

import pytest

from tests.browser.conftest import CHROMIUM, require_chromium


def test_missing_chromium_skips_outside_ci(tmp_path):
    with pytest.raises(pytest.skip.Exception, match="Chromium not found"):
        require_chromium(str(tmp_path / "chromium"), {})


def test_missing_chromium_fails_in_ci(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        require_chromium(str(tmp_path / "chromium"), {"CI": "true"})


def test_present_chromium_is_used(tmp_path):
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)

    assert require_chromium(str(browser), {"CI": "true"}) is None
    assert CHROMIUM == "/usr/bin/chromium"
