"""The second factor in a real browser: enrolment from the key the page shows, then logins with a code."""

import base64

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.access.conftest import current_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def two_factor_required(settings):
    settings.ADMIN_REQUIRE_2FA = True


def log_in_with_password(page, user):
    page.goto("/admin/contacts/contact/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "password")
    page.click("input[type=submit]")


def test_staff_enrol_an_authenticator_app_and_log_in_again_with_a_backup_code(page, admin_user, screenshot):
    log_in_with_password(page, admin_user)

    page.wait_for_url("**/two-factor/setup/**")
    assert page.locator("#two-factor-qr svg").is_visible()
    secret = page.locator("#two-factor-secret").inner_text()
    screenshot("two-factor-setup")
    # What the user's app computes from the key it was given.
    code = TOTP(base64.b32decode(secret)).token()
    page.fill("#id_code", f"{code:06d}")
    page.click("#two-factor-form input[type=submit]")

    codes = page.locator("#backup-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("text=Continue")
    page.wait_for_url("**/admin/contacts/contact/")
    assert TOTPDevice.objects.get(user=admin_user).confirmed

    page.click("#logout-form button")
    log_in_with_password(page, admin_user)
    page.wait_for_url("**/two-factor/verify/**")
    page.fill("#id_code", codes[0])
    page.click("#two-factor-form input[type=submit]")
    page.wait_for_url("**/admin/contacts/contact/")
    assert page.locator("#result_list, .paginator").first.is_visible()


def test_staff_log_in_with_the_code_their_app_shows(page, admin_user, screenshot):
    device = TOTPDevice.objects.create(user=admin_user, name="Authenticator app", confirmed=True)
    log_in_with_password(page, admin_user)
    page.wait_for_url("**/two-factor/verify/**")
    screenshot("two-factor-verify")

    page.goto("/admin/")  # any admin page, the index too, sends back to the code
    page.wait_for_url("**/two-factor/verify/**")
    page.fill("#id_code", current_code(device))
    page.click("#two-factor-form input[type=submit]")

    page.wait_for_selector("#crm-dashboard")
