"""Writes: publish, roll back and unpublish endpoints; create, change and revoke keys; start a flow call."""
from __future__ import annotations

import datetime as dt
import re
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from backend.audit import describe as audited
from backend.audit.services import audit_if_changed, audit_record
from backend.config.errors import InvalidRequest
from backend.graphs.authz import Action, require
from backend.graphs.models import Graph, GraphVersion, Workspace
from backend.releases.models import LabelMove, Release, ReleaseLabel
from backend.releases.selectors import labelled_release, serving_release
from backend.releases.services import check_label, release_for_version, release_label_move
from backend.runs.models import Run
from backend.runs.services import QueueUnavailable, run_create
from backend.runs.spend import SpendCapReached

from . import call_cache
from .callbacks import CallbackRefused, check_callback_url
from .calls import Call
from .errors import CallRefused
from .keys import new_key, new_signing_secret
from .models import ApiKey, CallbackDelivery, Endpoint, EndpointCall, EndpointRelease, IdempotencyRecord
from .selectors import key_spent_today, utc_day_start

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
IDEMPOTENCY_TTL = dt.timedelta(hours=24)


# --------------------------------------------------------------------------- endpoints


def _version(graph: Graph, number: int | None) -> GraphVersion:
    version = graph.latest_version if number is None else graph.versions.filter(number=number).first()
    if version is None:
        raise InvalidRequest("No such version.", [{"path": "version", "message": f"graph {graph.pk} has no "
                                                   f"version {number}" if number else "the graph has no version"}])
    return version


def _live_release(endpoint: Endpoint) -> EndpointRelease | None:
    """The release that set the endpoint's current version (unpublish moves nothing)."""
    actions = (EndpointRelease.Action.PUBLISHED, EndpointRelease.Action.ROLLED_BACK)
    return endpoint.releases.filter(action__in=actions).select_related("version", "base__version").first()


def _move(endpoint: Endpoint, user: Any, action: str, version: GraphVersion, base: EndpointRelease | None,
          note: str, release: Release | None = None, override_reason: str = "") -> EndpointRelease:
    """Record the move; a publish or rollback moves the endpoint's release label (to ``release``, or to the
    release of ``version`` as its prompts resolve now), which every endpoint following that label serves."""
    before = audited.endpoint_state(endpoint) if endpoint.version_id else None
    if action != EndpointRelease.Action.UNPUBLISHED:
        release = release or release_for_version(user=user, version=version, note=note)
        release_label_move(user=user, graph=endpoint.graph, label=endpoint.label, release=release, note=note,
                           reason=LabelMove.Reason.ROLLED_BACK if action == EndpointRelease.Action.ROLLED_BACK
                           else LabelMove.Reason.PUBLISHED, override_reason=override_reason)
        version = release.version
    moved = EndpointRelease.objects.create(endpoint=endpoint, action=action, version=version,
                                           previous_version_id=endpoint.version_id, base=base, actor=user,
                                           note=note, release=release)
    endpoint.version = version
    endpoint.enabled = action != EndpointRelease.Action.UNPUBLISHED
    endpoint.save(update_fields=["version", "enabled", "updated_at"])
    audit_record(actor=user, workspace=endpoint.workspace, action=f"endpoint.{action}",
                 target=audited.endpoint_target(endpoint), before=before,
                 after={**audited.endpoint_state(endpoint), **({"note": note} if note else {})})
    return moved


@transaction.atomic
def endpoint_create(*, user: Any, graph: Graph, slug: str | None = None, description: str = "",
                    publish: bool = True, version_number: int | None = None, label: str = "production") -> Endpoint:
    """A new endpoint for a graph following one of its release labels (default ``production``); by default
    published at once on the given (or latest) version, which moves that label."""
    require(user, graph.workspace, Action.ENDPOINT_MANAGE)
    slug = slug if slug is not None else slugify(graph.name)[:64].strip("-")
    if not SLUG.match(slug or ""):
        raise InvalidRequest("Bad slug.", [{"path": "slug", "message": "1 to 64 lowercase letters, digits and "
                                            "hyphens, starting and ending with a letter or digit"}])
    if Endpoint.objects.filter(slug=slug).exists():
        raise InvalidRequest("This slug is taken.", [{"path": "slug", "message": f"'{slug}' is taken"}])
    check_label(label)
    version = _version(graph, version_number) if publish else None
    endpoint = Endpoint.objects.create(workspace=graph.workspace, graph=graph, slug=slug, description=description,
                                       signing_secret=new_signing_secret(), created_by=user, label=label)
    if version is not None:
        _move(endpoint, user, EndpointRelease.Action.PUBLISHED, version, None, "first publish")
    return endpoint


@transaction.atomic
def endpoint_follow_label(*, user: Any, endpoint: Endpoint, label: str) -> Endpoint:
    """Make the endpoint serve another release label of its graph (``staging``, a canary, back to ``production``):
    the next call runs the release that label points at. Moves no label; audited (``endpoint.label_changed``).

    Only a label the graph has (it points at a release) is accepted: following one that does not exist would
    leave a live endpoint with nothing to serve."""
    require(user, endpoint.workspace, Action.ENDPOINT_MANAGE)
    check_label(label)
    endpoint = _locked(endpoint)
    release = labelled_release(endpoint.graph, label)
    if release is None:
        known = sorted(ReleaseLabel.objects.filter(graph=endpoint.graph).values_list("name", flat=True))
        raise InvalidRequest("The graph has no such release label.", [{"path": "label", "message": (
            f"graph {endpoint.graph_id} has no label '{label}'; its labels: {', '.join(known) or 'none yet'}")}])
    if label == endpoint.label:
        return endpoint
    before = {"label": endpoint.label, **audited.endpoint_state(endpoint)}
    endpoint.label = label
    if endpoint.version_id is not None:  # the mirror of what it serves (labels.py); a never-published one stays so
        endpoint.version = release.version
    endpoint.save(update_fields=["label", "version", "updated_at"])  # post_save: callers' caches re-read it
    audit_record(actor=user, workspace=endpoint.workspace, action="endpoint.label_changed",
                 target=audited.endpoint_target(endpoint),
                 before=before, after={"label": label, **audited.endpoint_state(endpoint)})
    return endpoint


def _locked(endpoint: Endpoint) -> Endpoint:
    return Endpoint.objects.select_for_update(of=("self",)).select_related("graph", "workspace").get(pk=endpoint.pk)


@transaction.atomic
def endpoint_publish(*, user: Any, endpoint: Endpoint, version_number: int | None = None,
                     note: str = "", override_reason: str = "") -> EndpointRelease:
    """Point the endpoint at a version (default: the graph's latest) and turn it on; the next call runs it.

    Moving the label passes the eval gate (releases/services.py): a version whose held-out pass rate drops too
    far is refused (409) unless an admin gives ``override_reason`` (audited)."""
    require(user, endpoint.workspace, Action.ENDPOINT_MANAGE)
    endpoint = _locked(endpoint)
    version = _version(endpoint.graph, version_number)
    live = _live_release(endpoint)
    # Re-publishing the live version (say, after an unpublish) must not push it on the rollback stack again.
    base = live.base if live is not None and live.version_id == version.pk else live
    return _move(endpoint, user, EndpointRelease.Action.PUBLISHED, version, base, note,
                 override_reason=override_reason)


@transaction.atomic
def endpoint_rollback(*, user: Any, endpoint: Endpoint, version_number: int | None = None,
                      note: str = "") -> EndpointRelease:
    """Point the endpoint back: by default at the version live before the current one, or at a named version."""
    require(user, endpoint.workspace, Action.ENDPOINT_MANAGE)
    endpoint = _locked(endpoint)
    live = _live_release(endpoint)
    if version_number is None:
        if live is None or live.base is None:
            raise InvalidRequest("Nothing to roll back to.", [{"path": "version", "message": "the endpoint has no "
                                                               "earlier published version"}])
        version, base, release = live.base.version, live.base.base, live.base.release
    else:
        version, base = _version(endpoint.graph, version_number), live
        release = _served_release(endpoint, version)
    return _move(endpoint, user, EndpointRelease.Action.ROLLED_BACK, version, base, note, release)


def _served_release(endpoint: Endpoint, version: GraphVersion) -> Release | None:
    """The release this endpoint last served for ``version`` (a rollback returns to exactly that)."""
    earlier = endpoint.releases.filter(version=version, release__isnull=False).select_related("release").first()
    return earlier.release if earlier is not None else None


@transaction.atomic
def endpoint_unpublish(*, user: Any, endpoint: Endpoint, note: str = "") -> Endpoint:
    """Turn the endpoint off: callers get 404 at once; its version, history and runs are kept."""
    require(user, endpoint.workspace, Action.ENDPOINT_MANAGE)
    endpoint = _locked(endpoint)
    if endpoint.enabled and endpoint.version is not None:
        _move(endpoint, user, EndpointRelease.Action.UNPUBLISHED, endpoint.version, None, note)
    return endpoint


# --------------------------------------------------------------------------- keys


def check_scopes(workspace: Workspace, scopes: list[str]) -> None:
    known = set(Endpoint.objects.filter(workspace=workspace, slug__in=scopes).values_list("slug", flat=True))
    problems = [{"path": f"scopes[{i}]", "message": f"no endpoint '{slug}' in this workspace"}
                for i, slug in enumerate(scopes) if slug not in known]
    if problems:
        raise InvalidRequest("Unknown endpoints in scopes.", problems)


@transaction.atomic
def api_key_create(*, user: Any, workspace: Workspace, name: str, scopes: list[str] | None = None,
                   rate_limit_per_minute: int | None = -1, daily_max_cost_usd: float | None = None
                   ) -> tuple[ApiKey, str]:
    """A new key; returns it with the whole key string, which is never shown again."""
    require(user, workspace, Action.API_KEY_MANAGE)
    return api_key_issue(user=user, workspace=workspace, name=name, scopes=scopes,
                         rate_limit_per_minute=rate_limit_per_minute, daily_max_cost_usd=daily_max_cost_usd)


@transaction.atomic
def api_key_issue(*, user: Any, workspace: Workspace, name: str, scopes: list[str] | None = None,
                  rate_limit_per_minute: int | None = -1, daily_max_cost_usd: float | None = None
                  ) -> tuple[ApiKey, str]:
    """``api_key_create`` for a caller authorised already (the Django admin: staff with the add permission)."""
    scopes = sorted(set(scopes or []))
    check_scopes(workspace, scopes)
    if rate_limit_per_minute == -1:
        rate_limit_per_minute = settings.PATCHBAY_KEY_RATE_LIMIT_PER_MINUTE
    material = new_key()
    key = ApiKey.objects.create(workspace=workspace, name=name, prefix=material.prefix,
                                secret_hash=material.secret_hash, scopes=scopes,
                                rate_limit_per_minute=rate_limit_per_minute, daily_max_cost_usd=daily_max_cost_usd,
                                created_by=user)
    audit_record(actor=user, workspace=workspace, action="api_key.created", target=audited.api_key_target(key),
                 before=None, after=audited.api_key_state(key))
    return key, material.key


@transaction.atomic
def api_key_update(*, user: Any, key: ApiKey, **changes: Any) -> ApiKey:
    """Rename a key or change its scopes and limits (the secret never changes: make a new key instead)."""
    require(user, key.workspace, Action.API_KEY_MANAGE)
    allowed = {"name", "scopes", "rate_limit_per_minute", "daily_max_cost_usd"}
    changes = {k: v for k, v in changes.items() if k in allowed}
    if "scopes" in changes:
        changes["scopes"] = sorted(set(changes["scopes"] or []))
        check_scopes(key.workspace, changes["scopes"])
    before = audited.api_key_state(ApiKey.objects.select_for_update().get(pk=key.pk))
    ApiKey.objects.filter(pk=key.pk).update(**changes)
    transaction.on_commit(call_cache.bump)  # .update() sends no signal: flow calls must see the change now
    changed = ApiKey.objects.get(pk=key.pk)
    audit_if_changed(actor=user, workspace=key.workspace, action="api_key.updated", target=audited.api_key_target(
        changed), before=before, after=audited.api_key_state(changed))
    return key


@transaction.atomic
def api_key_revoke(*, user: Any, key: ApiKey) -> None:
    """Revoke at once: the next call with this key gets 401. Its runs and usage are kept."""
    require(user, key.workspace, Action.API_KEY_MANAGE)
    if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=user):
        transaction.on_commit(call_cache.bump)  # .update() sends no signal: the next call must be refused
        revoked = ApiKey.objects.get(pk=key.pk)
        audit_record(actor=user, workspace=key.workspace, action="api_key.revoked",
                     target=audited.api_key_target(revoked),
                     before={**audited.api_key_state(revoked), "revoked": False}, after=audited.api_key_state(revoked))


# --------------------------------------------------------------------------- calls


@dataclass(frozen=True)
class Started:
    run: Run
    replayed: bool  # an Idempotency-Key retry: the first call's run, nothing new started


def _replay(key: ApiKey, idempotency_key: str, call: Call) -> Run | None:
    record = IdempotencyRecord.objects.select_related("run__graph_version", "run__endpoint_call").filter(
        api_key=key, key=idempotency_key, created_at__gte=timezone.now() - IDEMPOTENCY_TTL).first()
    if record is None:
        return None
    if record.request_hash != call.request_hash:
        raise CallRefused(409, "idempotency_conflict", "This Idempotency-Key was already used with a different "
                          f"request (run {record.run_id}); use a new key for a new request.",
                          [{"path": "headers.Idempotency-Key", "message": "already used with a different body"}])
    return record.run


def _usd(amount: float) -> str:
    return f"{amount:.10f}".rstrip("0").rstrip(".") or "0"


def _check_spend(key: ApiKey) -> None:
    cap = key.daily_max_cost_usd
    if cap is None:
        return
    spent = key_spent_today(key)
    if spent >= cap:
        reset = utc_day_start() + dt.timedelta(days=1)
        wait = max(1, int((reset - timezone.now()).total_seconds()))
        raise CallRefused(429, "spend_cap_reached",
                          f"API key '{key.name}' ({key.prefix}) has spent ${_usd(spent)} today, reaching its daily "
                          f"cap of ${_usd(cap)}; no run was started. The cap resets at 00:00 UTC (in {wait // 3600} h "
                          f"{wait % 3600 // 60} min); an admin of the workspace can raise it under API keys.",
                          headers={"Retry-After": str(wait)})


def _check_callback(url: str | None) -> None:
    if url is None:
        return
    try:
        check_callback_url(url)
    except CallbackRefused as refused:
        raise CallRefused(400, "invalid", f"The callback_url is refused: {refused}.",
                          [{"path": "callback_url", "message": str(refused)}]) from None


def flow_call_start(*, key: ApiKey, endpoint: Endpoint, call: Call, request_id: str,
                    idempotency_key: str | None, source: str = "endpoint",
                    version: GraphVersion | None = None, serving: Release | None = None) -> Started:
    """Start the endpoint's version (or ``version``, one it has served) on the call's input, or return the run
    an Idempotency-Key already made. ``source`` tags the run: "endpoint", or "openai" for /v1/chat/completions.
    ``serving``: the release the endpoint serves, when the caller knows it already (call_cache.py).

    Refusals (``CallRefused``/``InvalidRequest``) start nothing. The run is
    enqueued when the transaction commits, after its idempotency record and
    callback row exist.
    """
    # A plain call is one statement (the run and its call record) and needs no transaction of its own; an
    # Idempotency-Key or a callback adds rows that must commit with the run.
    alone = idempotency_key is None and not call.callback_url
    try:
        with nullcontext() if alone else transaction.atomic():
            if idempotency_key is not None:
                earlier = _replay(key, idempotency_key, call)
                if earlier is not None:
                    return Started(earlier, replayed=True)
            _check_spend(key)
            _check_callback(call.callback_url)
            release = serving if serving is not None and version is None else serving_release(endpoint, version)
            version = release.version if release is not None else (version or endpoint.version)
            assert version is not None, "only a live endpoint is called (Endpoint.is_live; others are a 404)"
            try:
                run = run_create(graph=endpoint.graph, user=None, input=call.input,
                                 version=version, budget=call.budget, source=source,
                                 caller_authorized=True, fresh=call.fresh, release=release,
                                 stored_with=lambda run: EndpointCall(endpoint=endpoint, run=run, api_key=key,
                                                                      request_id=request_id))
            except SpendCapReached as capped:  # the workspace's monthly cap (runs/spend.py), in the calls' shape
                raise CallRefused(429, capped.default_code, str(capped.detail),
                                  headers={"Retry-After": str(capped.retry_after)}) from None
            if call.callback_url:
                CallbackDelivery.objects.create(run=run, endpoint=endpoint, url=call.callback_url)
            if idempotency_key is not None:
                IdempotencyRecord.objects.filter(api_key=key, key=idempotency_key,
                                                 created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
                IdempotencyRecord.objects.create(api_key=key, key=idempotency_key, request_hash=call.request_hash,
                                                 run=run)
    except QueueUnavailable as unavailable:
        # The record was committed with the run, which then failed without running (the broker was down):
        # a retry with the same key must start afresh, not replay that failure for IDEMPOTENCY_TTL.
        if idempotency_key is not None:
            IdempotencyRecord.objects.filter(api_key=key, key=idempotency_key, run_id=unavailable.run_id).delete()
        raise  # an outage: the view answers 503 with Retry-After
    except IntegrityError:
        # The same Idempotency-Key in two concurrent calls: the other one committed first; answer with its run.
        if idempotency_key is None:
            raise
        earlier = _replay(key, idempotency_key, call)
        if earlier is None:
            raise
        return Started(earlier, replayed=True)
    run.graph_version = version
    return Started(run, replayed=False)
