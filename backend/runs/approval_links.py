"""Signed one-time links: a person without an account decides one approval step, once.

A link carries the approval's id and a random nonce, signed with the deployment's
secret (django.core.signing); only the nonce's hash is stored. Making a new link
replaces the old one; a link works while its step is undecided and its nonce is
the stored one, and is spent by the decision it makes.
"""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.core import signing
from django.utils import timezone
from rest_framework import status

from backend.config.errors import InvalidRequest

from .models import Approval

SALT = "patchbay.approval-link"
LINK_MAX_AGE_S = 90 * 86_400  # never longer than a step may wait


class LinkUnusable(InvalidRequest):
    """410: the link was used, replaced, or its step decided; it never works again."""

    status_code = status.HTTP_410_GONE


class LinkNotFound(InvalidRequest):
    """404: not a link this server made (mistyped, cut short, forged); the API document says so too."""

    status_code = status.HTTP_404_NOT_FOUND


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def make_link(approval: Approval) -> str:
    """A new link token for ``approval`` (any earlier one stops working)."""
    nonce = secrets.token_urlsafe(24)
    Approval.objects.filter(pk=approval.pk).update(link_nonce_hash=_hash(nonce))
    return signing.dumps({"a": approval.pk, "n": nonce}, salt=SALT, compress=True)


def link_path(token: str) -> str:
    """The page a person opens (the web app's /decide/<token>, which calls the API with the token)."""
    return f"/decide/{token}"


def approval_for_link(token: str) -> tuple[Approval, str]:
    """The approval a link decides and its nonce, or a 410 saying the link no longer works (404 if forged)."""
    try:
        data: Any = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE_S)
    except signing.SignatureExpired:
        raise LinkUnusable("This link has expired.", [{"path": "token", "message": "expired"}], code="gone") from None
    except signing.BadSignature:
        raise LinkNotFound("This link is not valid.", [{"path": "token", "message": "not a link this server made"}],
                           code="not_found") from None
    approval = Approval.objects.select_related("run").filter(pk=data.get("a")).first()
    if approval is None or approval.link_nonce_hash != _hash(str(data.get("n"))) or approval.link_used_at:
        raise LinkUnusable("This link no longer works: it was used or replaced.",
                           [{"path": "token", "message": "used or replaced"}], code="gone")
    if approval.status != Approval.Status.PENDING:
        raise LinkUnusable("This step was decided already.", [{"path": "token", "message": "decided"}], code="gone")
    return approval, str(data["n"])


def spend(approval: Approval, nonce: str) -> bool:
    """Mark the link used, once: of two concurrent uses exactly one gets True."""
    return Approval.objects.filter(pk=approval.pk, link_nonce_hash=_hash(nonce), link_used_at__isnull=True).update(
        link_used_at=timezone.now()) == 1
