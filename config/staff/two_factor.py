"""TOTP two-factor authentication for staff (django-otp), enforced on every admin page.

After the password (Django's admin login, throttled by django-axes) a staff user passes a second factor
before any admin page opens: ``verify`` takes a code from the authenticator app, or a backup code. A user
with no confirmed device is sent to ``setup`` first, which shows the QR code, confirms the first code and
hands out backup codes once. Required for every staff user when ``ADMIN_REQUIRE_2FA`` is true; with it
false, staff may still enrol at ``setup``. How to enrol and recover: docs/access.md.
"""

import base64
import math

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
# Admin views an unverified staff user may open: signing in and out, and the second factor itself.
OPEN_ADMIN_VIEWS = frozenset({"login", "logout", "two_factor_verify", "two_factor_setup"})


def needs_second_factor(user) -> bool:
    """True for a signed-in staff user who has not passed the second factor while it is required."""
    if not (settings.ADMIN_REQUIRE_2FA and user.is_authenticated and user.is_staff):
        return False
    is_verified = getattr(user, "is_verified", None)  # set by django_otp's OTPMiddleware
    return not (is_verified and is_verified())


class AdminTwoFactorMiddleware:
    """Every URL of the admin site (its namespace: model pages, actions, exports, custom views alike) sends
    staff who still need the second factor to ``verify``, or to ``setup`` when they have no device yet."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or "admin" not in match.namespaces or match.url_name in OPEN_ADMIN_VIEWS:
            return None
        if not needs_second_factor(request.user):
            return None
        step = "admin:two_factor_verify" if user_has_device(request.user) else "admin:two_factor_setup"
        return redirect_to_login(request.get_full_path(), reverse(step), REDIRECT_FIELD_NAME)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}),
        help_text=gettext_lazy("The 6 digits your authenticator app shows, or one of your backup codes."),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).lower()


def device_type_for(code: str):
    """TOTP codes are 6 digits; anything else is a backup code."""
    return TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice


def verified_device(user, code: str):
    """The user's confirmed device that accepts ``code``, or None. TOTP codes are 6 digits; anything else is
    tried as a backup code (used once). Each device throttles its own failures (django-otp)."""
    device_type = device_type_for(code)
    with transaction.atomic():
        for device in device_type.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def seconds_to_wait(devices) -> int:
    """How long until any of ``devices`` checks a code again (django-otp doubles a device's pause after each
    wrong code), or 0: a code typed during the pause is refused unchecked, right or wrong."""
    waits = []
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if allowed:
            return 0
        locked_until = (data or {}).get("locked_until")
        waits.append(math.ceil((locked_until - timezone.now()).total_seconds()) if locked_until else 1)
    return max(1, min(waits)) if waits else 0


def wait_message(seconds: int) -> str:
    return ngettext(
        "Too many wrong codes in a row: wait %(seconds)d second, then enter the current code.",
        "Too many wrong codes in a row: wait %(seconds)d seconds, then enter the current code.",
        seconds,
    ) % {"seconds": seconds}


def issue_backup_codes(user) -> list[str]:
    """Fresh backup codes for ``user``; the previous ones stop working. Shown once, stored as django-otp keeps
    them (each is deleted when used)."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def remove_devices(user) -> int:
    """Delete every two-factor device of ``user`` (app and backup codes): they enrol again at the next login."""
    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    return removed


def qr_code_svg(data: str) -> str:
    """The otpauth:// URL as an inline SVG QR code, large enough to scan, on white (its quiet zone included)."""
    svg = segno.make(data, error="m").svg_inline(scale=5, light="#fff")
    return mark_safe(svg)  # noqa: S308  (segno's own markup of our own otpauth:// URL)


def _next_url(request, site) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("admin:index", current_app=site.name)


def _context(request, site, **extra):
    return {
        **site.each_context(request),
        "has_permission": False,  # no navigation until the second factor is passed
        "next": _next_url(request, site),
        **extra,
    }


def verify_view(request, site):
    user = request.user
    if not user_has_device(user):
        return redirect_to_login(_next_url(request, site), reverse("admin:two_factor_setup"), REDIRECT_FIELD_NAME)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        wait = seconds_to_wait(device_type_for(code).objects.devices_for_user(user, confirmed=True))
        device = None if wait else verified_device(user, code)
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request, site))
        form.add_error("code", wait_message(wait) if wait else gettext(
            "That code was not accepted: use the current one (or an unused backup code)."
        ))  # fmt: skip
    context = _context(request, site, title=gettext("Two-factor authentication"), form=form)
    return TemplateResponse(request, "admin/two_factor/verify.html", context)


def setup_view(request, site):
    user = request.user
    if user_has_device(user):
        # A password alone never replaces a device: a second one is added only by an administrator's reset.
        target = "admin:two_factor_verify" if needs_second_factor(user) else "admin:index"
        return redirect_to_login(_next_url(request, site), reverse(target), REDIRECT_FIELD_NAME)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name=APP_DEVICE_NAME, confirmed=False
    )
    form = CodeForm(request.POST or None)
    wait = seconds_to_wait([device]) if request.method == "POST" else 0
    if request.method == "POST" and form.is_valid() and wait:
        form.add_error("code", wait_message(wait))
    elif request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            context = _context(request, site, title=gettext("Your backup codes"), codes=issue_backup_codes(user))
            return TemplateResponse(request, "admin/two_factor/backup_codes.html", context)
        form.add_error("code", gettext("That code did not match: check the app's clock and enter the current code."))
    context = _context(
        request,
        site,
        title=gettext("Set up two-factor authentication"),
        form=form,
        qr_code=qr_code_svg(device.config_url),
        secret=base64.b32encode(device.bin_key).decode(),
    )
    return TemplateResponse(request, "admin/two_factor/setup.html", context)


def backup_codes_view(request, site):
    """A verified user replaces their backup codes (after using some, or losing the list). Backup codes back up
    an authenticator app: without one, set that up first (which hands out the first codes)."""
    if not TOTPDevice.objects.devices_for_user(request.user, confirmed=True).exists():
        return redirect("admin:two_factor_setup")
    codes = issue_backup_codes(request.user) if request.method == "POST" else None
    left = StaticToken.objects.filter(device__user=request.user, device__name=BACKUP_DEVICE_NAME).count()
    context = {**site.each_context(request), "title": gettext("Backup codes"), "codes": codes, "left": left}
    return TemplateResponse(request, "admin/two_factor/backup_codes.html", context)
