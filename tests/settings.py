"""The test session's settings: production's (backend/config/settings.py), with a fast password hasher first,
and, under pytest-xdist, a Redis database and a Celery queue of each worker process's own.

Django 5.2 hashes a password with PBKDF2 at 1,000,000 rounds: ~0.56 s of CPU each on a CI machine here, paid by
every user a test makes (the ``alice`` and ``bob`` fixtures) and every password sign-in. New passwords are hashed
with MD5 (no security meaning in a throwaway test database): 160 tests of tests/authz/test_matrix.py took 42 s
against 45 s. Production's hashers stay in the list, so a server or a command run with production's settings on
the test database (the fault drills seed that way) is still verified.

pytest-django exports this module as DJANGO_SETTINGS_MODULE, so the live web server and worker the tests start
inherit it (bench/_stack.py keeps a module already set).
"""
import os

from django.conf import global_settings


def redis_db_for_worker(base: int, index: int) -> int:
    """Worker ``index``'s Redis database: counting up from the session's database to 15, then down below it.

    ``make test`` runs pytest-xdist workers (gw0, gw1, ...), each a whole session of its own: its own test
    database (pytest-django adds ``_gw0``...), its own live Celery worker and ASGI server (tests/conftest.py). They
    must not share Redis: one worker's cleanup (the model cache, breakers, a deleted queue) would reach into the
    other's tests, and one's Celery worker would take the other's runs. gw0 keeps the configured database, so a
    run without xdist is unchanged; the rule stays within Redis's 0..15 and gives 16 workers 16 databases:
    CI's base 15 gives 15, 14, 13, ...; a base of 1 gives 1, 2, 3, ...
    """
    above = list(range(base, 16))
    order = above + list(range(base - 1, -1, -1))
    if index >= len(order):
        raise ValueError(f"pytest-xdist worker {index}: Redis has 16 databases, one a worker")
    return order[index]


_DERIVED_FOR = "PATCHBAY_TEST_SERVICES_OF"  # the xdist worker whose REDIS_URL / PATCHBAY_QUEUE the environment has


def _own_services_per_xdist_worker() -> None:
    """Points REDIS_URL and PATCHBAY_QUEUE of this process at the xdist worker's own (see above). It writes the
    environment, before production's settings read it, so everything the worker starts (the live stack's Celery
    worker and web server, commands run in a subprocess) and every test that reads the environment agrees."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... under xdist; unset otherwise
    redis_url = os.environ.get("REDIS_URL", "")
    if not worker.startswith("gw") or not redis_url.startswith(("redis://", "rediss://")):
        return  # no xdist, or a unix-socket (embedded) Redis that has only one database: nothing to derive
    if os.environ.get(_DERIVED_FOR) == worker:
        return  # a child process of the worker (the live Celery worker, a command): it inherited them derived
    from urllib.parse import urlsplit, urlunsplit

    index = int(worker[2:])
    parts = urlsplit(redis_url)
    base = int(parts.path.strip("/") or 0)
    os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{redis_db_for_worker(base, index)}"))
    # Redis databases already keep the queues apart; the name too, so a worker's log and a look at Redis say
    # whose a run was, and run_ends.channel() (pub/sub ignores database numbers) carries it.
    os.environ["PATCHBAY_QUEUE"] = f"{os.environ.get('PATCHBAY_QUEUE', 'patchbay')}-{worker}"
    os.environ[_DERIVED_FOR] = worker


_own_services_per_xdist_worker()

from backend.config.settings import *  # noqa: E402, F403 (production's settings, read after the above)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *global_settings.PASSWORD_HASHERS]
