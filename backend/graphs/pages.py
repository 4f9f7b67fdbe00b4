"""The browser entry point. The canvas (frontend/, built by Vite) lands in its own issue."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"user": request.user})
