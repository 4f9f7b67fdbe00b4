"""Result callbacks: which URLs may receive a run's result, and delivering it, signed.

A callback URL is the caller's, so it is checked like untrusted input twice:
when the call is made (a clear 400) and again right before delivery, because
DNS can change in between. The host is resolved and every address must be
public — loopback, private, link-local, shared, multicast and reserved ranges
are refused — unless ``PATCHBAY_CALLBACK_ALLOW_PRIVATE`` or
``PATCHBAY_CALLBACK_ALLOWED_NETWORKS`` say otherwise. Delivery connects to the
address that was checked (the Host header and TLS name stay the URL's), never
follows redirects, and signs the body so receivers can trust it.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAX_URL_LENGTH = 2000
TIMEOUT_S = 10.0
MAX_ATTEMPTS = 5
USER_AGENT = "Patchbay-Callbacks/1.0"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class CallbackRefused(ValueError):
    """The URL may not receive callbacks; the message says why, for the caller."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[Address, ...]


def allowed_networks(values: Iterable[str] | None = None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = settings.PATCHBAY_CALLBACK_ALLOWED_NETWORKS if values is None else values
    try:
        return [ipaddress.ip_network(value, strict=False) for value in raw]
    except ValueError as exc:
        raise ImproperlyConfigured(f"PATCHBAY_CALLBACK_ALLOWED_NETWORKS: {exc}") from None


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_refusal(address: Address) -> str | None:
    """Why callbacks may not go to this address, or None when they may."""
    address = _unmapped(address)
    if any(address in network for network in allowed_networks()):
        return None
    if settings.PATCHBAY_CALLBACK_ALLOW_PRIVATE:
        return None
    if address.is_loopback:
        return f"{address} is a loopback address"
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_private:
        return f"{address} is a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved or not address.is_global:
        return f"{address} is not a public address"
    return None


def resolve(host: str, port: int) -> tuple[Address, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise CallbackRefused(f"the host '{host}' could not be resolved") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise CallbackRefused(f"the host '{host}' could not be resolved")
    return tuple(addresses)


def check_callback_url(url: Any) -> Target:
    """Parse, resolve and vet a callback URL, or raise ``CallbackRefused`` with the reason."""
    if not isinstance(url, str) or not url:
        raise CallbackRefused("must be an absolute https:// URL")
    if len(url) > MAX_URL_LENGTH:
        raise CallbackRefused(f"at most {MAX_URL_LENGTH} characters")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise CallbackRefused("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise CallbackRefused(f"not a valid URL ({exc})") from None
    schemes = ("https",) if settings.PATCHBAY_CALLBACK_REQUIRE_HTTPS else ("https", "http")
    if parts.scheme not in schemes:
        raise CallbackRefused("must be an https:// URL" if schemes == ("https",) else "must be an http(s):// URL")
    if not host:
        raise CallbackRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise CallbackRefused("credentials in the URL are not allowed; use the signature header to authenticate")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise CallbackRefused(f"callbacks may not go to {host}: {reason}")
    return Target(url=url, scheme=parts.scheme, host=host, port=port, addresses=addresses)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``: receivers recompute and compare."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class Attempt:
    delivered: bool
    retry: bool  # worth trying again later (network trouble, 408, 429, 5xx)
    status_code: int | None
    error: str


def post(target: Target, body: bytes, headers: dict[str, str]) -> Attempt:
    """One POST to the vetted address; no redirects followed."""
    address = target.addresses[0]
    pinned = httpx.URL(target.url).copy_with(host=str(address))
    default_port = 443 if target.scheme == "https" else 80
    shown = f"[{target.host}]" if ":" in target.host else target.host
    host_header = shown if target.port == default_port else f"{shown}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False) as client:
            response = client.post(pinned, content=body, headers={**headers, "Host": host_header},
                                   extensions=extensions)
    except httpx.HTTPError as exc:
        return Attempt(False, True, None, f"{type(exc).__name__}: {exc}"[:500])
    code = response.status_code
    if 200 <= code < 300:
        return Attempt(True, False, code, "")
    retry = code in (408, 429) or code >= 500
    return Attempt(False, retry, code, f"the receiver answered {code}")


def callback_body(result: dict[str, Any]) -> bytes:
    return json.dumps({"type": "run.finished", "run": result}, separators=(",", ":"), default=str).encode()


def callback_headers(*, secret: str, body: bytes, run_id: str, request_id: str) -> dict[str, str]:
    """The delivery's headers, signed with ``secret``. With no secret there is no signature header at all: an
    HMAC under an empty key is one anybody can compute, a forgery that would look like proof to a receiver."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Patchbay-Delivery": run_id}
    if secret:
        headers["Patchbay-Signature"] = signature(secret, int(time.time()), body)
    if request_id:
        headers["X-Request-Id"] = request_id
    return headers


def backoff_seconds(attempt: int) -> int:
    """Wait before retry number ``attempt`` (1-based): 2, 8, 32, 128 seconds."""
    return 2 * 4 ** (attempt - 1)
