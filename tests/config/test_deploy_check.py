"""`manage.py check --deploy` is clean with production settings, and warns without them.

Runs the real command in a subprocess with a production-like environment (README, "Production").
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def deploy_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    from django.conf import settings

    base = {k: v for k, v in os.environ.items() if not k.startswith(("PATCHBAY_", "DJANGO_")) and k not in (
        "DEBUG", "SECRET_KEY")}
    db = settings.DATABASES["default"]
    base.update({"DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
                                 f"{db['NAME']}",
                 "REDIS_URL": settings.REDIS_URL, "PATCHBAY_DATA_DIR": str(tmp_path / "data"),
                 "PATCHBAY_STATIC_ROOT": str(tmp_path / "static"), **env})
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=base, capture_output=True, text=True, timeout=120)


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "patchbay.example.com",
              "CSRF_TRUSTED_ORIGINS": "https://patchbay.example.com", "PATCHBAY_HTTPS": "true",
              "PATCHBAY_BEHIND_PROXY": "true"}


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = deploy_check(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


def test_check_deploy_names_what_is_missing_without_them(tmp_path: Path) -> None:
    """Local `make run` defaults (plain http) are not production: the check says so, setting by setting."""
    result = deploy_check(tmp_path, DEBUG="true", SECRET_KEY="short")
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W009", "security.W012", "security.W016",
                  "security.W018"):
        assert check in result.stderr + result.stdout, (check, result.stderr)
