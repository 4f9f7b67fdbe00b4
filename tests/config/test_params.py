"""The one integer parser: ASCII digits within range, or a 400 naming the field."""
from __future__ import annotations

import pytest

from backend.config.errors import InvalidRequest
from backend.config.params import MAX_BIGINT, optional_int, parse_int, whole_number


@pytest.mark.parametrize("text", ["²", "٣", "３", "1²", "-1", "+1", " 1", "1 ", "1.0", "0x1", "1_000", "", "1" * 20,
                                  "١٢٣", "1\n"])
def test_anything_but_ascii_digits_is_not_a_whole_number(text: str) -> None:
    assert whole_number(text) is None
    with pytest.raises(InvalidRequest) as caught:
        parse_int(text, field="after")
    assert caught.value.problems[0]["path"] == "after"
    assert caught.value.status_code == 400


def test_ascii_digits_within_range_are_read() -> None:
    assert parse_int("0", field="after") == 0
    assert parse_int("007", field="after") == 7
    assert parse_int(str(MAX_BIGINT), field="graph") == MAX_BIGINT
    assert whole_number(None) is None and whole_number(5) is None


def test_the_range_is_enforced_and_named() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_int("0", field="graph", minimum=1)
    assert caught.value.problems == [{"path": "graph", "message": f"must be a whole number from 1 to {MAX_BIGINT}"}]
    with pytest.raises(InvalidRequest):
        parse_int("11", field="limit", maximum=10)


def test_an_optional_parameter_falls_back_only_when_absent() -> None:
    assert optional_int(None, field="limit", default=50) == 50
    assert optional_int("", field="limit", default=50) == 50
    assert optional_int("7", field="limit", default=50) == 7
    with pytest.raises(InvalidRequest):
        optional_int("²", field="limit", default=50)
