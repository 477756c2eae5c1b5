"""Third-party apps' admin sections in the reader's language.

django-axes ships no Brazilian Portuguese: its own translatable words (below, marked again so that `make
messages` keeps them in our catalog, which Django reads before any app's) are translated in
locale/pt_BR. Neither it nor django-otp names its app for people, and django-otp's device models have
untranslatable names: the apps get names here (their AppConfigs, in INSTALLED_APPS), the devices' names on
the admin's home page come from ``MODEL_NAMES``.
"""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticDeviceConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpDeviceConfig


class LoginThrottlingConfig(AxesAppConfig):
    verbose_name = _("Login throttling")


class AuthenticatorAppsConfig(TotpDeviceConfig):
    verbose_name = _("Two-factor: authenticator apps")


class BackupCodesConfig(StaticDeviceConfig):
    verbose_name = _("Two-factor: backup codes")


# (app label, model name) → the model's plural as the admin's home page lists it.
MODEL_NAMES = {
    ("otp_totp", "totpdevice"): _("Authenticator apps"),
    ("otp_static", "staticdevice"): _("Backup code lists"),
}

AXES_WORDS = [
    gettext_noop("access attempt"), gettext_noop("access attempts"), gettext_noop("access failure"),
    gettext_noop("access failures"), gettext_noop("access log"), gettext_noop("access logs"),
    gettext_noop("access attempt expiration"), gettext_noop("access attempt expirations"),
    gettext_noop("Access Attempt"), gettext_noop("Access lock out"), gettext_noop("Attempt Remaining"),
    gettext_noop("Attempt Time"), gettext_noop("Clean up expired attempts"), gettext_noop("Expires At"),
    gettext_noop("Failed Logins"), gettext_noop("Form Data"), gettext_noop("GET Data"), gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"), gettext_noop("Locked Out"), gettext_noop("Logout Time"), gettext_noop("Meta Data"),
    gettext_noop("Not set"), gettext_noop("POST Data"), gettext_noop("Path"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."), gettext_noop("User Agent"),
    gettext_noop("Username"),
]  # fmt: skip


def app_list_in_readers_language(app_list: list[dict]) -> list[dict]:
    """The admin's app list with ``MODEL_NAMES`` applied."""
    for app in app_list:
        for model in app["models"]:
            name = MODEL_NAMES.get((app["app_label"], model["object_name"].lower()))
            if name is not None:
                model["name"] = name
    return app_list
