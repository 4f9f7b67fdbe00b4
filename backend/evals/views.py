"""Datasets, eval runs, compare and the eval policy over HTTP: thin; logic in services and selectors."""
from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut, parse
from backend.config.errors import InvalidRequest
from backend.graphs.selectors import graph_get
from backend.graphs.views import pick_workspace
from backend.runs.selectors import run_get

from .datasets import (
    dataset_add_item,
    dataset_add_run,
    dataset_create,
    dataset_delete,
    dataset_import,
    dataset_item_delete,
    dataset_update,
    sampling_set,
)
from .evalruns import eval_start
from .models import Dataset, EvalPolicy, EvalRun, SamplingRule
from .policy import policy_set
from .scorers import SCORER_TYPES
from .selectors import dataset_get, datasets_visible, eval_compare, eval_items, eval_run_get, eval_runs_visible
from .transfer import FORMATS, write_items

MAX_LIST = 200
LIST = {"type": "array", "items": {"type": "object"}}  # raw schema: a list of objects


def dataset_out(d: Dataset, with_items: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.pk, "workspace": d.workspace_id, "name": d.name, "description": d.description, "held_out": d.held_out,
        "items": getattr(d, "item_count", None), "created_at": d.created_at,
        "sampling": [{"graph": r.graph_id, "rate": r.rate} for r in SamplingRule.objects.filter(dataset=d)]}
    if with_items:
        out["item_list"] = [{"id": i.pk, "input": i.input, "expected": i.expected, "labels": i.labels,
                             "source_run": str(i.source_run_id) if i.source_run_id else None}
                            for i in d.items.all()[:1000]]
    return out


def eval_out(e: EvalRun, with_items: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(e.pk), "workspace": e.workspace_id, "dataset": e.dataset_id, "dataset_name": e.dataset.name,
        "graph": e.graph_id, "graph_name": e.graph.name, "version": e.graph_version.number,
        "candidate": e.candidate or None, "scorers": e.scorers, "trigger": e.trigger, "status": e.status,
        "done": e.done, "total": e.total, "summary": e.summary or None, "created_at": e.created_at,
        "finished_at": e.finished_at}
    if with_items:
        out["item_list"] = eval_items(e)
    return out


class DatasetIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    held_out = serializers.BooleanField(required=False, default=False)
    workspace = serializers.IntegerField(required=False)


class DatasetChangeIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    held_out = serializers.BooleanField(required=False)


class ItemIn(serializers.Serializer):
    input = serializers.JSONField()
    expected = serializers.JSONField(required=False, allow_null=True, default=None)
    labels = serializers.DictField(required=False, default=dict)


class AddRunIn(serializers.Serializer):
    run = serializers.CharField(max_length=64)


class ImportIn(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS)
    text = serializers.CharField(max_length=20_000_000, allow_blank=True)


class SamplingIn(serializers.Serializer):
    graph = serializers.IntegerField()
    rate = serializers.FloatField(min_value=0, max_value=1)


class EvalIn(serializers.Serializer):
    dataset = serializers.IntegerField()
    graph = serializers.IntegerField()
    version = serializers.IntegerField(required=False, min_value=1)
    candidate_prompt = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    candidate_model = serializers.JSONField(required=False, allow_null=True, default=None, help_text=(
        'another model for one step: {"node": "<llm step id>", "model": "<alias>"}'))
    scorers = serializers.JSONField()


class PolicyIn(serializers.Serializer):
    datasets = serializers.ListField(child=serializers.IntegerField(), max_length=20)
    scorers = serializers.ListField(child=serializers.DictField(), required=False, default=list, max_length=20)
    threshold = serializers.FloatField(required=False, default=0.05)


def _dataset_for(request: Request, dataset_id: Any, path: str = "dataset") -> Dataset:
    try:
        return dataset_get(request.user, dataset_id)
    except Http404 as exc:  # unknown or not yours: the field at fault (a database error stays a 503)
        raise InvalidRequest("Unknown dataset.", [{"path": path, "message": "no such dataset in your workspaces"}]) from exc


class DatasetListView(APIView):
    @extend_schema(operation_id="datasets_list", responses={200: LIST})
    def get(self, request: Request) -> Response:
        return Response([dataset_out(d) for d in datasets_visible(request.user)[:MAX_LIST]])

    @extend_schema(operation_id="datasets_create", request=DatasetIn, responses={201: OpenApiTypes.OBJECT, 400: ErrorOut})
    def post(self, request: Request) -> Response:
        data = parse(DatasetIn, request)
        dataset = dataset_create(user=request.user, workspace=pick_workspace(request, data.get("workspace")),
                                 name=data["name"], description=data["description"], held_out=data["held_out"])
        return Response(dataset_out(dataset_get(request.user, dataset.pk)), status=status.HTTP_201_CREATED)


class DatasetDetailView(APIView):
    @extend_schema(operation_id="datasets_get", responses={200: OpenApiTypes.OBJECT, 404: ErrorOut})
    def get(self, request: Request, dataset_id: int) -> Response:
        return Response(dataset_out(dataset_get(request.user, dataset_id), with_items=True))

    @extend_schema(operation_id="datasets_update", request=DatasetChangeIn, responses={200: OpenApiTypes.OBJECT, 400: ErrorOut})
    def patch(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_update(user=request.user, dataset=dataset_get(request.user, dataset_id),
                                 **parse(DatasetChangeIn, request))
        return Response(dataset_out(dataset_get(request.user, dataset.pk)))

    @extend_schema(operation_id="datasets_delete", responses={204: None, 404: ErrorOut})
    def delete(self, request: Request, dataset_id: int) -> Response:
        dataset_delete(user=request.user, dataset=dataset_get(request.user, dataset_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetItemListView(APIView):
    @extend_schema(operation_id="datasets_items_add", request=ItemIn, responses={201: OpenApiTypes.OBJECT, 400: ErrorOut})
    def post(self, request: Request, dataset_id: int) -> Response:
        data = parse(ItemIn, request)
        item = dataset_add_item(user=request.user, dataset=dataset_get(request.user, dataset_id), **data)
        return Response({"id": item.pk}, status=status.HTTP_201_CREATED)


class DatasetItemView(APIView):
    @extend_schema(operation_id="datasets_items_delete", responses={204: None, 404: ErrorOut})
    def delete(self, request: Request, dataset_id: int, item_id: int) -> Response:
        dataset_item_delete(user=request.user, dataset=dataset_get(request.user, dataset_id), item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetAddRunView(APIView):
    """Add a finished run from its trace: its input, its output as the expected answer, its route as a label."""

    @extend_schema(operation_id="datasets_add_run", request=AddRunIn, responses={201: OpenApiTypes.OBJECT, 400: ErrorOut})
    def post(self, request: Request, dataset_id: int) -> Response:
        data = parse(AddRunIn, request)
        dataset = dataset_get(request.user, dataset_id)
        try:
            run = run_get(request.user, data["run"])
        except Http404 as exc:  # unknown or not yours: the field at fault (a database error stays a 503)
            raise InvalidRequest("Unknown run.", [{"path": "run", "message": "no such run in your workspaces"}]) from exc
        item = dataset_add_run(user=request.user, dataset=dataset, run=run)
        return Response({"id": item.pk, "input": item.input, "expected": item.expected, "labels": item.labels},
                        status=status.HTTP_201_CREATED)


class DatasetImportView(APIView):
    @extend_schema(operation_id="datasets_import", request=ImportIn, responses={201: OpenApiTypes.OBJECT, 400: ErrorOut})
    def post(self, request: Request, dataset_id: int) -> Response:
        data = parse(ImportIn, request)
        added = dataset_import(user=request.user, dataset=dataset_get(request.user, dataset_id), text=data["text"],
                               fmt=data["format"])
        return Response({"added": added}, status=status.HTTP_201_CREATED)


class DatasetExportView(APIView):
    # ?as=, not ?format=: DRF reads ``format`` to pick a renderer (and answers 404 for one it does not have).
    @extend_schema(operation_id="datasets_export", parameters=[OpenApiParameter("as", str, enum=list(FORMATS))],
                   responses={(200, "application/x-ndjson"): OpenApiTypes.STR, (200, "text/csv"): OpenApiTypes.STR,
                              400: ErrorOut, 404: ErrorOut})
    def get(self, request: Request, dataset_id: int) -> HttpResponse:
        dataset = dataset_get(request.user, dataset_id)
        fmt = request.query_params.get("as", "jsonl")
        if fmt not in FORMATS:
            raise InvalidRequest("Bad file type.", [{"path": "as", "message": "jsonl or csv"}])
        rows = [{"input": i.input, "expected": i.expected, "labels": i.labels,
                 "source_run": str(i.source_run_id) if i.source_run_id else None} for i in dataset.items.all()]
        response = HttpResponse(write_items(rows, fmt), content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="dataset-{dataset.pk}.{fmt}"'
        return response


class DatasetSamplingView(APIView):
    @extend_schema(operation_id="datasets_sampling", request=SamplingIn, responses={200: OpenApiTypes.OBJECT, 400: ErrorOut})
    def put(self, request: Request, dataset_id: int) -> Response:
        data = parse(SamplingIn, request)
        dataset = dataset_get(request.user, dataset_id)
        try:
            graph = graph_get(request.user, data["graph"])
        except Http404 as exc:  # unknown or not yours: the field at fault (a database error stays a 503)
            raise InvalidRequest("Unknown graph.", [{"path": "graph", "message": "no such graph in your workspaces"}]) from exc
        sampling_set(user=request.user, dataset=dataset, graph=graph, rate=data["rate"])
        return Response(dataset_out(dataset_get(request.user, dataset_id)))


class EvalListView(APIView):
    @extend_schema(operation_id="evals_list", parameters=[OpenApiParameter("graph", int), OpenApiParameter("dataset", int)],
                   responses={200: LIST, 400: ErrorOut})
    def get(self, request: Request) -> Response:
        found = eval_runs_visible(request.user)
        for key in ("graph", "dataset"):
            value = request.query_params.get(key, "")
            if value:
                if not value.isdigit():
                    raise InvalidRequest("Bad filter.", [{"path": key, "message": "a whole number"}])
                found = found.filter(**{f"{key}_id": int(value)})
        return Response([eval_out(e) for e in found[:MAX_LIST]])

    @extend_schema(operation_id="evals_start", request=EvalIn, responses={201: OpenApiTypes.OBJECT, 400: ErrorOut})
    def post(self, request: Request) -> Response:
        data = parse(EvalIn, request)
        try:
            graph = graph_get(request.user, data["graph"])
        except Http404 as exc:  # unknown or not yours: the field at fault (a database error stays a 503)
            raise InvalidRequest("Unknown graph.", [{"path": "graph", "message": "no such graph in your workspaces"}]) from exc
        dataset = _dataset_for(request, data["dataset"])
        eval_run = eval_start(user=request.user, dataset=dataset, graph=graph, scorers=data["scorers"],
                              version_number=data.get("version"), candidate_prompt=data["candidate_prompt"],
                              candidate_model=data["candidate_model"])
        return Response(eval_out(eval_run), status=status.HTTP_201_CREATED)


class EvalDetailView(APIView):
    @extend_schema(operation_id="evals_get", responses={200: OpenApiTypes.OBJECT, 404: ErrorOut})
    def get(self, request: Request, eval_id: str) -> Response:
        return Response(eval_out(eval_run_get(request.user, eval_id), with_items=True))


class EvalCompareView(APIView):
    @extend_schema(operation_id="evals_compare", responses={200: OpenApiTypes.OBJECT, 404: ErrorOut})
    def get(self, request: Request, eval_id: str, other_id: str) -> Response:
        return Response(eval_compare(eval_run_get(request.user, eval_id), eval_run_get(request.user, other_id)))


class ScorerTypesView(APIView):
    @extend_schema(operation_id="evals_scorer_types", responses={200: LIST})
    def get(self, request: Request) -> Response:
        return Response([{"type": k, "description": v} for k, v in SCORER_TYPES.items()])


class GraphEvalPolicyView(APIView):
    @extend_schema(operation_id="graphs_eval_policy_get", responses={200: OpenApiTypes.OBJECT, 404: ErrorOut})
    def get(self, request: Request, graph_id: int) -> Response:
        policy = EvalPolicy.objects.filter(graph=graph_get(request.user, graph_id)).first()
        return Response(_policy_out(policy))

    @extend_schema(operation_id="graphs_eval_policy_set", request=PolicyIn, responses={200: OpenApiTypes.OBJECT, 400: ErrorOut})
    def put(self, request: Request, graph_id: int) -> Response:
        data = parse(PolicyIn, request)
        policy = policy_set(user=request.user, graph=graph_get(request.user, graph_id), dataset_ids=data["datasets"],
                            scorers=data["scorers"], threshold=data["threshold"])
        return Response(_policy_out(policy))


def _policy_out(policy: EvalPolicy | None) -> dict[str, Any]:
    if policy is None:
        return {"datasets": [], "scorers": [], "threshold": None}
    return {"datasets": list(policy.datasets.values_list("pk", flat=True)), "scorers": policy.scorers,
            "threshold": policy.threshold}
