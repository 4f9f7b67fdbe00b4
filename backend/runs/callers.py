"""Who asked for a run, told by the apps that start runs for outside callers.

``Run`` does not know its callers (DESIGN "The end of a run"): a published endpoint keeps its own record of
each call (``endpoints.EndpointCall``: the API key, the caller's X-Request-Id). The runs search still finds a
run by its request id, and the runs API still shows it, through this registry: an app that records calls
registers its record model here when it starts (its ``AppConfig.ready``), and ``runs`` reads the records
through the ORM without importing that app. With nothing registered a run simply has no request id.

Why a registry rather than a lookup through the reverse relation (``endpoint_call__request_id``): that
string would tie ``runs`` to the endpoints app as surely as an import, only invisibly; here the dependency
points one way, from the caller's app to ``runs``, and the contract is one sentence (below).
"""
from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

# Each record model has a ``run`` (a one-to-one link to runs.Run) and a ``request_id`` text field ("" = none).
_RECORDS: list[type[models.Model]] = []

REQUEST_ID = "caller_request_id"  # the annotation ``with_callers`` adds; serializers read it


def register_caller_records(model: type[models.Model]) -> None:
    """Let the runs search and the runs API read this model's calls (idempotent: ready() may run twice)."""
    if model not in _RECORDS:
        _RECORDS.append(model)


def _records(model: type[models.Model]) -> QuerySet[Any]:
    return model._default_manager.all()


def with_callers(runs: QuerySet[Any]) -> QuerySet[Any]:
    """``runs`` with each run's caller request id as ``caller_request_id`` ("" when no caller recorded one)."""
    found = [Subquery(_records(m).filter(run_id=OuterRef("pk")).values("request_id")[:1]) for m in _RECORDS]
    return runs.annotate(**{REQUEST_ID: Coalesce(*found, Value("")) if found else Value("")})


def request_id_is(value: str) -> Q:
    """Runs whose caller sent exactly this request id (each record model's own index finds them)."""
    if not _RECORDS:
        return Q(pk__in=[])
    query = Q()
    for model in _RECORDS:
        query |= Q(pk__in=_records(model).filter(request_id=value).values("run_id"))
    return query


def request_id_contains(text: str) -> Q:
    """Runs whose caller's request id contains ``text``, any case (the search's free text)."""
    query = Q(pk__in=[])
    for model in _RECORDS:
        query |= Q(Exists(_records(model).filter(run_id=OuterRef("pk"), request_id__icontains=text)))
    return query


def request_id_of(run: Any) -> str:
    """The run's caller request id: the ``with_callers`` annotation if loaded, else one query per record model."""
    loaded = getattr(run, REQUEST_ID, None)
    if loaded is not None:
        return str(loaded)
    for model in _RECORDS:
        found = _records(model).filter(run_id=run.pk).values_list("request_id", flat=True).first()
        if found:
            return str(found)
    return ""


def remember_caller(run: Any) -> None:
    """Load the run's caller request id once, for code that reads it many times (the OTLP export's spans)."""
    setattr(run, REQUEST_ID, request_id_of(run))
