#!/usr/bin/env python
import os
import sys

from config.env_file import read_env_file


def main():
    # .env first: a DJANGO_SETTINGS_MODULE written there beats the development default.
    read_env_file()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
