from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.staff.sessions import end_all_sessions
from config.staff.two_factor import remove_devices


class Command(BaseCommand):
    help = (
        "For a staff user who lost their authenticator and their backup codes: remove their two-factor devices "
        "and end their sessions. They set up a new device at their next login (password first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        devices = remove_devices(user)
        sessions = end_all_sessions(user)
        self.stdout.write(
            f"Removed {devices} two-factor device(s) of {username} and ended {sessions} session(s): "
            "they enrol again at their next login."
        )
