"""Playwright driving Debian's Chromium (never a downloaded browser) against pytest-django's live server.

Outside CI, a machine without /usr/bin/chromium skips these tests with the reason; in CI (CI=true) a
missing browser fails them: `.ci/run` installs it.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


def require_chromium(path: str, environ) -> None:
    """Skip (outside CI) or fail (CI=true) when the browser is not installed."""
    if os.path.exists(path) and os.access(path, os.X_OK):
        return
    message = f"Chromium not found at {path} (apt-get install chromium chromium-driver)"
    if environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}: CI must run the browser tests")
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium_browser():
    require_chromium(CHROMIUM, os.environ)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls made by the tests
    # themselves (factories, assertions, the database flush) are still plain synchronous code. Only
    # while the browser runs, so the variable never leaks into the rest of the suite.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium_browser, live_server):
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot_of():
    """A full-page screenshot of any page (another browser context's too) into test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def screenshot(page, screenshot_of):
    return lambda name: screenshot_of(page, name)


def log_in(page, user):
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_selector("#crm-dashboard")
    return page


@pytest.fixture
def logged_in(page, admin_user):
    return log_in(page, admin_user)


@pytest.fixture
def logged_in_pt_br(chromium_browser, live_server, admin_user):
    """Staff whose browser asks for Brazilian Portuguese, in Brazil, logged in (a 1,366 px screen)."""
    context = chromium_browser.new_context(
        viewport={"width": 1366, "height": 900}, base_url=live_server.url, locale="pt-BR",
        timezone_id="America/Sao_Paulo",
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield log_in(page, admin_user)
    context.close()


def compliance_page_in(chromium_browser, live_server, *, locale: str, **context_options):
    """A browser page logged in as "dpo", a member of the Compliance group (and nothing else), asking for
    ``locale``. Returns (page, context); close the context when done."""
    from django.contrib.auth.models import Group, Permission

    from contacts.permissions import COMPLIANCE_GROUP, COMPLIANCE_PERMISSIONS
    from tests.factories import UserFactory

    user = UserFactory(username="dpo", is_staff=True)
    # A transactional test's database was flushed by the one before: the group its migration made may be gone.
    group, _ = Group.objects.get_or_create(name=COMPLIANCE_GROUP)
    group.permissions.set(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in COMPLIANCE_PERMISSIONS
    )
    user.groups.add(group)
    context = chromium_browser.new_context(base_url=live_server.url, locale=locale, **context_options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/admin/login/")
    page.fill("#id_username", "dpo")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#crm-dashboard")
    return page, context
