#!/usr/bin/env python
import os
import sys

from config.env_file import read_env_file

# Long-running commands that count for /metrics: their counters join the web processes' (config/ops/shared_counters.py).
COUNTING_COMMANDS = {"webhook_worker"}


def main():
    # .env first: a DJANGO_SETTINGS_MODULE written there beats the development default.
    read_env_file()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    if sys.argv[1:2] and sys.argv[1] in COUNTING_COMMANDS:
        from django.conf import settings

        from config.ops.shared_counters import share_counters_between_processes

        share_counters_between_processes(settings)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
