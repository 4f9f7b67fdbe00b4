"""The one JSON reader: every body a client can send is a value or a refusal with its status and path."""
from __future__ import annotations

import json

import pytest

from backend.config import jsonbody
from backend.config.jsonbody import MAX_BODY_DEPTH, BodyProblem, loads


def refused(body: bytes | str, **limits: int) -> BodyProblem:
    with pytest.raises(BodyProblem) as caught:
        loads(body, **limits)
    return caught.value


@pytest.mark.parametrize(("body", "path"), [
    (b'{"budget": {"max_cost_usd": NaN}}', "budget.max_cost_usd"),
    (b'{"budget": {"max_cost_usd": Infinity}}', "budget.max_cost_usd"),
    (b'{"input": {"xs": [1, -Infinity]}}', "input.xs[1]"),
    (b'{"input": {"n": 1e309}}', "input.n"),  # Python reads it as inf
    (b'{"input": {"n": -1e309}}', "input.n"),
    (b'[NaN]', "[0]"),
])
def test_a_number_that_is_not_finite_is_a_400_naming_its_path(body: bytes, path: str) -> None:
    problem = refused(body)
    assert problem.status == 400
    assert problem.problems == [{"path": path, "message": jsonbody.NOT_FINITE}]
    assert path in problem.message


def test_every_non_finite_number_is_named_but_only_the_first_few() -> None:
    two = refused(b'{"a": NaN, "b": [1e999]}')
    assert [p["path"] for p in two.problems] == ["a", "b[0]"]
    many = refused(json.dumps({"xs": [1.0] * 5}).replace("1.0", "NaN").encode() * 1 + b"")
    assert len(many.problems) == 5
    flood = refused(("[" + ",".join(["NaN"] * 10_000) + "]").encode())
    assert len(flood.problems) == jsonbody.MAX_PROBLEMS


def test_large_but_finite_numbers_are_read() -> None:
    assert loads(b'{"a": 1.7976931348623157e308, "b": -1e-400, "c": 123456789012345678901234567890}') == {
        "a": 1.7976931348623157e308, "b": -0.0, "c": 123456789012345678901234567890}


@pytest.mark.parametrize("body", [b'{"text": "caf\xe9"}', b'\xff\xfe{}', b'{"a": "\xed\xa0\x80"}'])
def test_bytes_that_are_not_utf8_are_a_400(body: bytes) -> None:
    problem = refused(body)
    assert problem.status == 400 and problem.problems == [{"path": "", "message": "not valid UTF-8"}]


def test_a_lone_surrogate_escape_is_a_400_naming_its_path() -> None:
    problem = refused(b'{"input": {"text": "a\\ud800b"}}')
    assert problem.problems == [{"path": "input.text", "message": jsonbody.SURROGATE}]
    key = refused(b'{"input": {"\\udfff": 1}}')
    assert key.problems[0]["path"] == "input" and "key" in key.problems[0]["message"]
    # A surrogate *pair* is one character, and fine.
    assert loads(b'{"t": "\\ud83d\\ude00"}') == {"t": "\U0001F600"}


def test_a_body_over_the_limit_is_a_413_before_it_is_decoded() -> None:
    problem = refused(b'{"a": "' + b"x" * 2000 + b'"}', max_bytes=1024)
    assert problem.status == 413 and problem.code == "too_large"
    assert loads(b'{"a": "' + b"x" * 1000 + b'"}', max_bytes=1024)["a"] == "x" * 1000
    # A str is measured in UTF-8 bytes, as it is sent: 600 'é' are 1,200 bytes.
    assert refused('"' + "é" * 600 + '"', max_bytes=1024).status == 413


def test_the_default_limit_is_the_setting(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    assert refused(b'"' + b"x" * 3000 + b'"').status == 413


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def test_a_value_deeper_than_the_limit_is_named_at_the_field_holding_it() -> None:
    assert loads(f'{{"input": {{"q": {nested(MAX_BODY_DEPTH - 2)}}}}}')  # exactly at the limit: read
    problem = refused(f'{{"input": {{"q": {nested(MAX_BODY_DEPTH)}}}}}')
    assert problem.status == 400
    assert problem.problems == [{"path": "input.q", "message": f"nested more than {MAX_BODY_DEPTH} levels deep "
                                                               "(arrays and objects inside one another)"}]


@pytest.mark.parametrize("depth", [990, 5_000, 100_000])
def test_a_body_deeper_than_the_decoder_can_follow_is_a_400(depth: int) -> None:
    problem = refused(nested(depth))
    assert problem.status == 400 and "nested" in problem.message + str(problem.problems)
    assert refused("[" * depth).status == 400  # never closed


@pytest.mark.parametrize("body", [b"", b"{", b"{'a': 1}", b'{"a": 1,}', b"\xef\xbb\xbf{}", b"1" * 5000, b"nan",
                                  b'{"a": 1} {"b": 2}'])
def test_anything_else_that_is_not_json_is_a_400(body: bytes) -> None:
    problem = refused(body)
    assert problem.status == 400 and problem.problems == [{"path": "", "message": "not valid JSON"}]


def test_plain_json_is_read_as_it_is() -> None:
    doc = {"spec": {"nodes": [{"id": "a", "config": {"n": 1.5, "t": "é\u2028", "x": None, "b": True}}]}}
    assert loads(json.dumps(doc).encode()) == doc
    assert loads(json.dumps(doc, ensure_ascii=False)) == doc
