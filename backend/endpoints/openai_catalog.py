"""Reads for the OpenAI-compatible routes: which flows a key may call as models, and which version a name picks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backend.graphs.models import GraphVersion

from .models import ApiKey, Endpoint, EndpointRelease
from .openai_errors import unknown_model
from .openai_mapping import ModelRef

if TYPE_CHECKING:
    from backend.releases.models import Release

CURRENT = ("live", "latest")  # both name the version the endpoint serves now (there are no release labels yet)


@dataclass(frozen=True)
class Target:
    endpoint: Endpoint
    version: GraphVersion
    serving: bool  # the version the endpoint serves now (its release), not one named by number

    @property
    def input_schema(self) -> Any:
        return self.version.spec.get("inputs") or {"type": "object"}


def models_for_key(key: ApiKey) -> list[dict[str, Any]]:
    """``GET /v1/models``: every live flow of the key's workspace that the key's scopes allow."""
    endpoints = Endpoint.objects.filter(workspace_id=key.workspace_id, enabled=True, version__isnull=False)
    return [{"id": e.slug, "object": "model", "created": int(e.created_at.timestamp()), "owned_by": "patchbay"}
            for e in endpoints.order_by("slug") if key.may_call(e.slug)]


def _served(endpoint: Endpoint, number: int) -> GraphVersion | None:
    """A version this endpoint has been published or rolled back to (never an unreleased draft)."""
    moves = (EndpointRelease.Action.PUBLISHED, EndpointRelease.Action.ROLLED_BACK)
    release = endpoint.releases.filter(action__in=moves, version__number=number).select_related("version").first()
    return release.version if release else None


def target_for_call(endpoint: Endpoint, release: Release | None, model: ModelRef) -> Target:
    """The version a model name picks on an endpoint the key may call (admission.py found both): what it serves
    now (``release``, as a flow call runs it), or one it was published or rolled back to; 404 (OpenAI shape) for
    any other selector."""
    if model.selector is None or model.selector in CURRENT:
        version = release.version if release is not None else endpoint.version
        assert version is not None  # admission answers live endpoints only
        return Target(endpoint, version, serving=True)
    if model.selector.isdigit() and len(model.selector) <= 9:  # a database integer, never an overflow
        served = _served(endpoint, int(model.selector))
        if served is None:
            raise unknown_model(model.name, f": version {model.selector} was never published on '{model.slug}'")
        return Target(endpoint, served, serving=False)
    raise unknown_model(model.name, f": '{model.selector}' is not a version number, 'live' or 'latest'")
