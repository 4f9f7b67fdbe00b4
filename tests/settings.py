"""The test session's settings: production's (backend/config/settings.py), with a fast password hasher first.

Django 5.2 hashes a password with PBKDF2 at 1,000,000 rounds: ~0.56 s of CPU each on a CI machine here, paid by
every user a test makes (the ``alice`` and ``bob`` fixtures) and every password sign-in. New passwords are hashed
with MD5 (no security meaning in a throwaway test database): 160 tests of tests/authz/test_matrix.py took 42 s
against 45 s. Production's hashers stay in the list, so a server or a command run with production's settings on
the test database (the fault drills seed that way) is still verified.

pytest-django exports this module as DJANGO_SETTINGS_MODULE, so the live web server and worker the tests start
inherit it (bench/_stack.py keeps a module already set).
"""
from django.conf import global_settings

from backend.config.settings import *  # noqa: F403 (the whole of production's settings, then the override)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *global_settings.PASSWORD_HASHERS]
