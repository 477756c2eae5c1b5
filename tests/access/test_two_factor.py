"""TOTP two-factor authentication for staff: required on every admin URL when ADMIN_REQUIRE_2FA is on."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import URLResolver
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from config.staff.two_factor import OPEN_ADMIN_VIEWS
from tests.access.conftest import current_code
from tests.config.test_health_and_settings import run_manage
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

VERIFY = "/admin/two-factor/verify/"
SETUP = "/admin/two-factor/setup/"


def admin_routes(patterns=None, prefix=""):
    """(route, url name) of every URL the admin site serves, as Django sees them."""
    for pattern in admin.site.get_urls() if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from admin_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.name


def concrete_paths():
    """One real path per admin route: ids become 1, each app's index and the catch-all get a sample."""
    for route, name in admin_routes():
        if name == "app_list":
            labels = re.search(r"\(\?P<app_label>([^)]*)\)", route).group(1).split("|")
            yield from ((f"/admin/{label}/", name) for label in labels)
        elif route == "(?P<url>.*)$":
            yield "/admin/contacts/nothing-here/", "catch_all"
        else:
            yield "/admin/" + re.sub(r"<[^>]+>", "1", route), name


def test_the_sample_covers_every_admin_route():
    names = {name for _, name in concrete_paths()}
    assert {"index", "contacts_contact_change", "contacts_erasurerecord_export", "webhooks_webhookevent_changelist",
            "password_change", "jsi18n", "two_factor_backup_codes", "auth_user_password_change", "app_list",
            "axes_accessattempt_changelist", "contacts_contactaccess_changelist"} <= names  # fmt: skip
    assert len(list(concrete_paths())) > 100


def test_every_admin_url_sends_a_password_only_session_to_the_second_factor(client, two_factor_required, staff,
                                                                           authenticator):  # fmt: skip
    ContactFactory(pk=1)
    client.force_login(staff)

    for path, name in concrete_paths():
        if name in OPEN_ADMIN_VIEWS:
            continue
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 302, (path, method)
            assert response["Location"].startswith(f"{VERIFY}?next="), (path, response["Location"])


def test_without_a_device_yet_the_admin_sends_staff_to_set_one_up(client, two_factor_required, staff):
    client.force_login(staff)

    response = client.get("/admin/contacts/contact/")

    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=/admin/contacts/contact/"


def test_the_current_code_opens_the_admin_and_is_remembered_for_the_session(client, two_factor_required, staff,
                                                                          authenticator):  # fmt: skip
    client.force_login(staff)
    assert client.get(VERIFY).status_code == 200

    response = client.post(VERIFY, {"code": current_code(authenticator), "next": "/admin/contacts/contact/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/contacts/contact/"
    assert client.get("/admin/contacts/contact/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused_and_the_admin_stays_closed(client, two_factor_required, staff, authenticator):
    client.force_login(staff)
    wrong = f"{(int(current_code(authenticator)) + 1) % 1_000_000:06d}"

    response = client.post(VERIFY, {"code": wrong})

    assert response.status_code == 200
    assert "was not accepted" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def just_now(device):
    """The last wrong code was typed a moment ago."""
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttling_failure_timestamp = timezone.now()
    device.save()


def test_a_right_code_just_after_a_wrong_one_is_told_to_wait_not_to_check_the_clock(
    client, two_factor_required, staff, authenticator
):
    client.force_login(staff)
    wrong = f"{(int(current_code(authenticator)) + 1) % 1_000_000:06d}"
    client.post(VERIFY, {"code": wrong})
    just_now(authenticator)  # the right code comes within the pause, however slow this machine is

    page = client.post(VERIFY, {"code": current_code(authenticator)}, headers={"accept-language": "pt-BR"})
    text = page.content.decode()

    assert "Muitos códigos errados seguidos: aguarde 1 segundo" in text
    assert "relógio" not in text and "não foi aceito" not in text
    assert client.get("/admin/").status_code == 302
    authenticator.refresh_from_db()
    authenticator.throttling_failure_timestamp -= timedelta(seconds=2)  # the pause is over
    authenticator.save()
    assert client.post(VERIFY, {"code": current_code(authenticator)})["Location"] == "/admin/"


def test_while_enrolling_a_code_in_the_pause_after_a_wrong_one_is_told_to_wait(client, two_factor_required, staff):
    client.force_login(staff)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    client.post(SETUP, {"code": f"{(int(current_code(device)) + 1) % 1_000_000:06d}"})
    just_now(device)

    text = client.post(SETUP, {"code": current_code(device)}).content.decode()

    assert "Too many wrong codes in a row: wait 1 second" in text and "clock" not in text
    device.refresh_from_db()
    assert not device.confirmed


def test_a_redirect_after_the_code_stays_on_this_site(client, two_factor_required, staff, authenticator):
    client.force_login(staff)

    response = client.post(VERIFY, {"code": current_code(authenticator), "next": "https://evil.example/"})

    assert response["Location"] == "/admin/"


def test_enrolment_confirms_the_app_with_a_code_and_hands_out_backup_codes_once(client, two_factor_required, staff):
    client.force_login(staff)
    page = client.get(SETUP).content.decode()
    assert "<svg" in page  # the QR code
    device = TOTPDevice.objects.get(user=staff, confirmed=False)

    response = client.post(SETUP, {"code": current_code(device), "next": "/admin/"})

    device.refresh_from_db()
    assert device.confirmed
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())
    assert len(codes) == 10
    assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert client.get("/admin/").status_code == 200
    # Once a device exists, a password alone cannot enrol another one.
    client.logout()
    client.force_login(staff)
    assert client.get(SETUP)["Location"].startswith(VERIFY)


def test_the_setup_page_shows_the_key_the_app_needs(client, two_factor_required, staff):
    import base64

    client.force_login(staff)
    page = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=staff, confirmed=False)

    assert base64.b32encode(device.bin_key).decode() in page


def test_a_backup_code_opens_the_admin_once(client, two_factor_required, staff, authenticator):
    device = StaticDevice.objects.create(user=staff, name="Backup codes")
    device.token_set.create(token="abcd2345")
    client.force_login(staff)

    assert client.post(VERIFY, {"code": "ABCD 2345"})["Location"] == "/admin/"
    assert not device.token_set.exists()
    client.logout()
    client.force_login(staff)
    assert client.post(VERIFY, {"code": "abcd2345"}).status_code == 200  # used up
    assert client.get("/admin/").status_code == 302


def test_backup_codes_come_only_with_an_authenticator_app(client, settings, staff):
    settings.ADMIN_REQUIRE_2FA = False
    client.force_login(staff)

    response = client.post("/admin/two-factor/backup-codes/")

    assert response["Location"] == SETUP
    assert not StaticToken.objects.exists()


def test_the_login_page_sends_a_password_only_session_on_to_the_code(client, two_factor_required, staff,
                                                                    authenticator):  # fmt: skip
    client.force_login(staff)

    response = client.get("/admin/login/?next=/admin/contacts/contact/")

    assert response["Location"] == f"{VERIFY}?next=/admin/contacts/contact/"


def test_a_verified_user_replaces_their_backup_codes(client, two_factor_required, staff, authenticator):
    client.force_login(staff)
    client.post(VERIFY, {"code": current_code(authenticator)})
    old = set(StaticToken.objects.values_list("token", flat=True))

    page = client.post("/admin/two-factor/backup-codes/").content.decode()

    new = set(re.findall(r"<li><code>([a-z0-9]+)</code></li>", page))
    assert len(new) == 10
    assert new == set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert not old & new


def test_session_use_of_the_api_needs_the_second_factor_too_tokens_do_not(client, two_factor_required, staff,
                                                                        authenticator):  # fmt: skip
    client.force_login(staff)
    assert client.get("/api/contacts/").status_code in (401, 403)
    client.post(VERIFY, {"code": current_code(authenticator)})
    assert client.get("/api/contacts/").status_code == 200

    system = UserFactory()
    system.user_permissions.add(Permission.objects.get(codename="view_contact"))
    token = Token.objects.create(user=system)
    api = client.__class__()
    assert api.get("/api/contacts/", headers={"Authorization": f"Token {token.key}"}).status_code == 200


def test_with_two_factor_off_the_admin_opens_after_the_password(client, settings, staff):
    settings.ADMIN_REQUIRE_2FA = False
    client.force_login(staff)

    assert client.get("/admin/contacts/contact/").status_code == 200
    assert client.get(SETUP).status_code == 200  # still possible to enrol


def test_an_administrator_resets_a_lost_device_from_the_command_line(client, two_factor_required, staff,
                                                                   authenticator, capsys):  # fmt: skip
    StaticDevice.objects.create(user=staff, name="Backup codes").token_set.create(token="abcd2345")
    client.force_login(staff)
    client.post(VERIFY, {"code": current_code(authenticator)})
    assert client.get("/admin/").status_code == 200

    call_command("reset_two_factor", staff.username)

    assert "Removed 2 two-factor device(s)" in capsys.readouterr().out
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    assert client.get("/admin/")["Location"].startswith("/admin/login/")  # logged out everywhere
    client.force_login(staff)
    assert client.get("/admin/")["Location"].startswith(SETUP)


def test_reset_of_an_unknown_user_is_a_clear_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("reset_two_factor", "nobody")


def test_an_administrator_resets_two_factor_from_the_user_admin(client, staff, authenticator):
    colleague = UserFactory(is_staff=True)
    TOTPDevice.objects.create(user=colleague, name="Authenticator app", confirmed=True)
    client.force_login(staff)

    response = client.post("/admin/auth/user/", {"action": "reset_two_factor", "_selected_action": [colleague.pk]})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=colleague).exists()
    assert TOTPDevice.objects.filter(user=staff).exists()


@pytest.mark.parametrize(("settings_module", "required"), [("config.settings.production", "True"),
                                                          ("config.settings.local", "False")])  # fmt: skip
def test_two_factor_is_required_in_production_and_optional_locally(settings_module, required):
    result = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.ADMIN_REQUIRE_2FA)",
        DJANGO_SETTINGS_MODULE=settings_module, SECRET_KEY="k" * 30 + "-production-like-random-value-xyz",
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == required, result.stderr
