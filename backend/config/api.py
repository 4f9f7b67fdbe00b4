"""API plumbing every app's views share: reading a request body through a serializer, and the error shape.

The error body itself is built in ``config/errors.py`` (the exception handler); ``ErrorOut`` describes it
for the OpenAPI document, so both live beside each other here rather than in one app that others import.
"""
from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request


def parse(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The validated body, or a 400 naming each field at fault (through the exception handler)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ProblemOut(serializers.Serializer):
    path = serializers.CharField(help_text="JSON path of the field at fault, e.g. spec.nodes[2].config.model")
    message = serializers.CharField()
    node_id = serializers.CharField(allow_null=True, required=False)
    severity = serializers.ChoiceField(choices=["error", "warning"], required=False,
                                       help_text='absent for errors; "warning": shown, but does not block a save or a run')


class ErrorOut(serializers.Serializer):
    error = serializers.CharField(help_text="a stable code: invalid, invalid_graph, not_found, too_large, ...")
    message = serializers.CharField()
    problems = ProblemOut(many=True)
