"""Serve the built canvas (frontend/dist): index.html for every client route, assets as static files.

In production ``collectstatic`` puts the assets under STATIC_ROOT and WhiteNoise
serves them before any view runs. When they were not collected (a fresh build,
the test server), ``asset`` serves the same files straight from frontend/dist, and other apps' static
files (admin, Swagger UI) through the staticfiles finders.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

DIST = Path(settings.BASE_DIR) / "frontend" / "dist"

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Patchbay</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}</style>
</head><body><h1>Patchbay</h1><p>The canvas has not been built yet. Run <code>make run</code> (it builds it),
or <code>make frontend</code>, then reload this page.</p><p>The API is up: <a href="/api/graphs/">/api/graphs/</a>.</p>
</body></html>"""


@require_safe
@ensure_csrf_cookie
def index(request: HttpRequest, route: str = "") -> HttpResponse:
    page = DIST / "index.html"
    if not page.exists():
        return HttpResponse(NOT_BUILT, status=503)
    response = HttpResponse(page.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def asset(request: HttpRequest, path: str) -> FileResponse:
    root = DIST.resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        # Not the canvas's: an app's static file (admin, Swagger UI from drf-spectacular-sidecar), found the way
        # collectstatic would find it. ``find`` joins safely: a path that leaves its roots is refused (404 here).
        try:
            found = finders.find(path)
        except SuspiciousFileOperation:
            found = None
        if not isinstance(found, str) or not Path(found).is_file():
            raise Http404("no such file")
        target = Path(found)
    content_type, _ = mimetypes.guess_type(target.name)
    response = FileResponse(target.open("rb"), content_type=content_type or "application/octet-stream")
    # Vite puts a content hash in every file name under assets/: those never change.
    response["Cache-Control"] = ("public, max-age=31536000, immutable" if path.startswith("assets/")
                                 else "no-cache")
    return response
