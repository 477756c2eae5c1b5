import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory

PASSWORD = "pw"  # tests.factories.UserFactory's


@pytest.fixture
def two_factor_required(settings):
    settings.ADMIN_REQUIRE_2FA = True


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


def current_code(device: TOTPDevice) -> str:
    """What the user's authenticator app shows now."""
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def authenticator(staff):
    return TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
