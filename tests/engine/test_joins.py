"""Branches join: a step that did not run on this path can be defaulted and tested, and reading it plainly
fails in words naming the step and the route taken (not "'dict object' has no attribute")."""
from __future__ import annotations

import pytest

from backend.engine import ValidationContext, validate_graph

from .scripted import graph
from .test_patterns import INPUT, classifier, node_span, out, run

JOIN_DEFAULTED = "{{ nodes.billing_reply.output | default('') }}{{ nodes.tech_reply.output | default('') }}"


def support_flow(output_value: str) -> dict:
    """input → router (billing, technical, default) → a reply per route → one output joining them."""
    router = {"id": "classify", "type": "router", "config": {
        "classifier": {"model": "fast"}, "routes": [{"label": "billing"}, {"label": "technical"}]}}
    return graph([INPUT, router,
                  {"id": "billing_reply", "type": "transform", "config": {"value": "refund {{ input.text }}"}},
                  {"id": "tech_reply", "type": "transform", "config": {"value": "reboot {{ input.text }}"}},
                  {"id": "general_reply", "type": "transform", "config": {"value": "hello"}},
                  out(output_value)],
                 [{"from": "in", "to": "classify"},
                  {"from": "classify", "port": "billing", "to": "billing_reply"},
                  {"from": "classify", "port": "technical", "to": "tech_reply"},
                  {"from": "classify", "port": "default", "to": "general_reply"},
                  {"from": "billing_reply", "to": "out"}, {"from": "tech_reply", "to": "out"},
                  {"from": "general_reply", "to": "out"}])


@pytest.mark.parametrize(("route", "expected"), [("billing", "refund hi"), ("technical", "reboot hi"),
                                                 ("default", "")])
def test_join_with_default_succeeds_on_every_route_with_that_routes_text(route: str, expected: str) -> None:
    result, _ = run(support_flow(JOIN_DEFAULTED), classifier(route, 0.9))
    assert result.status == "succeeded", result.error
    assert result.output == expected


def test_plain_join_fails_naming_the_skipped_step_and_the_route_taken() -> None:
    result, _ = run(support_flow("{{ nodes.billing_reply.output }}{{ nodes.tech_reply.output }}"),
                    classifier("billing", 0.9))
    assert result.status == "failed"
    assert result.error == ("node 'out' failed: step 'tech_reply' did not run on this path "
                            "(router 'classify' chose 'billing'); use `| default('')` or test `nodes.tech_reply.ran`")
    assert "dict object" not in node_span(result, "out").error


def test_a_single_expression_of_a_skipped_step_fails_the_same_way() -> None:
    result, _ = run(support_flow("{{ nodes.billing_reply.output }}"), classifier("technical", 0.9))
    assert result.status == "failed"
    assert "step 'billing_reply' did not run on this path (router 'classify' chose 'technical')" in result.error


@pytest.mark.parametrize(("route", "expected"), [("billing", "B:refund hi"), ("technical", "T:reboot hi"),
                                                 ("default", "G:hello")])
def test_ran_and_skipped_can_be_tested_in_an_if(route: str, expected: str) -> None:
    value = ("{% if nodes.billing_reply.ran %}B:{{ nodes.billing_reply.output }}"
             "{% elif not nodes.tech_reply.skipped %}T:{{ nodes.tech_reply.output }}"
             "{% else %}G:{{ nodes.general_reply.output }}{% endif %}")
    result, _ = run(support_flow(value), classifier(route, 0.9))
    assert result.status == "succeeded", result.error
    assert result.output == expected


def test_skipped_output_is_undefined_to_defined_tests_and_chained_fields_default() -> None:
    value = ("{{ nodes.tech_reply.output is defined }}|{{ nodes.tech_reply.output.text | default('none') }}"
             "|{{ nodes.billing_reply.output is defined }}")
    result, _ = run(support_flow(value), classifier("billing", 0.9))
    assert result.output == "False|none|True"


def test_loops_over_the_nodes_that_ran_still_see_only_those() -> None:
    value = ("{% for id in ['billing_reply', 'tech_reply', 'general_reply'] %}"
             "{% if id in nodes %}{{ nodes[id].output }}{% endif %}{% endfor %}")
    result, _ = run(support_flow(value), classifier("technical", 0.9))
    assert result.output == "reboot hi"


def test_validation_accepts_ran_and_skipped_and_still_refuses_other_fields() -> None:
    assert validate_graph(support_flow("{{ nodes.tech_reply.ran }}{{ nodes.tech_reply.skipped }}"),
                          ValidationContext()) == []
    problems = validate_graph(support_flow("{{ nodes.tech_reply.text }}"), ValidationContext())
    assert [p.message for p in problems] == [
        "nodes.tech_reply.text does not exist: use nodes.tech_reply.output "
        "(or nodes.tech_reply.ran, true when it ran on this path)"]


@pytest.mark.parametrize("value", ["{{ nodes.tech_reply }}", "step: {{ nodes.tech_reply }}"])
def test_a_skipped_step_used_whole_fails_in_the_same_words(value: str) -> None:
    result, _ = run(support_flow(value), classifier("billing", 0.9))
    assert result.status == "failed"
    assert "step 'tech_reply' did not run on this path (router 'classify' chose 'billing')" in result.error


# The join the output form writes ("the result of whichever of these ran", frontend graph-core/templates.ts).
JOIN_WHICHEVER = ("{{ nodes.billing_reply.output | default(nodes.tech_reply.output)"
                  " | default(nodes.general_reply.output) }}")


@pytest.mark.parametrize(("route", "expected"), [("billing", "refund hi"), ("technical", "reboot hi"),
                                                 ("default", "hello")])
def test_whichever_ran_join_takes_the_branch_that_ran(route: str, expected: str) -> None:
    result, _ = run(support_flow(JOIN_WHICHEVER), classifier(route, 0.9))
    assert result.status == "succeeded", result.error
    assert result.output == expected


def test_whichever_ran_join_keeps_an_object_whole() -> None:
    flow = support_flow(JOIN_WHICHEVER)
    for node in flow["nodes"]:
        if node["id"] == "tech_reply":
            node["config"]["value"] = {"fix": "reboot {{ input.text }}", "priority": 2}
    result, _ = run(flow, classifier("technical", 0.9))
    assert result.status == "succeeded", result.error
    assert result.output == {"fix": "reboot hi", "priority": 2}


def warnings_of(doc: dict) -> list:
    problems = validate_graph(doc, ValidationContext(), warnings=True)
    assert [p for p in problems if p.severity != "warning"] == []
    return [p for p in problems if p.severity == "warning"]


def test_a_plain_read_of_a_branch_step_is_warned_about_not_refused() -> None:
    doc = support_flow("{{ nodes.billing_reply.output }}{{ nodes.tech_reply.output | default('') }}")
    assert validate_graph(doc, ValidationContext()) == []  # without warnings asked for: nothing
    [warning] = warnings_of(doc)
    assert warning.path == "nodes[5].config.value" and warning.node_id == "out"
    assert "reads 'billing_reply', which runs only when router 'classify' takes 'billing'" in warning.message
    assert warning.to_dict()["severity"] == "warning"


@pytest.mark.parametrize("value", [
    JOIN_DEFAULTED, JOIN_WHICHEVER,
    "{% if nodes.billing_reply.ran %}{{ nodes.billing_reply.output }}{% endif %}",
    "{% if nodes.billing_reply.output is defined %}{{ nodes.billing_reply.output }}{% endif %}",
    "{% if 'billing_reply' in nodes %}{{ nodes['billing_reply'].output }}{% endif %}",
    "{% for id in ['billing_reply', 'tech_reply'] %}{% if id in nodes %}{{ nodes[id].output }}{% endif %}{% endfor %}",
])
def test_guarded_joins_are_not_warned_about(value: str) -> None:
    assert warnings_of(support_flow(value)) == []


def test_a_step_that_only_follows_the_branch_may_read_it_plainly() -> None:
    doc = support_flow(JOIN_DEFAULTED)
    doc["nodes"].append({"id": "after_billing", "type": "transform",
                         "config": {"value": "{{ nodes.billing_reply.output }} and {{ input.text }}"}})
    doc["edges"].append({"from": "billing_reply", "to": "after_billing"})
    doc["edges"].append({"from": "after_billing", "to": "out"})
    assert warnings_of(doc) == []


def test_steps_on_every_path_are_never_warned_about() -> None:
    doc = support_flow("{{ nodes.classify.output }} {{ input.text }}")
    assert warnings_of(doc) == []
