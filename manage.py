#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings")
    from django.core.management import execute_from_command_line

    from backend.config.embedded import prepare_command

    prepare_command(sys.argv)  # the embedded database is migrated on first use
    execute_from_command_line(sys.argv)
