"""The query-parameter parsers: ASCII numbers and dates within range, bounded text, or a 400 naming the field."""
from __future__ import annotations

import datetime as dt

import pytest

from backend.config.errors import InvalidRequest
from backend.config.params import (
    MAX_BIGINT,
    optional_int,
    parse_amount,
    parse_int,
    parse_text,
    parse_when,
    whole_number,
)


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


def test_amounts_are_plain_non_negative_decimals() -> None:
    assert parse_amount("0.25", field="cost_above") == 0.25 and parse_amount("12", field="cost_above") == 12
    for text in ("-1", "1e3", "nan", "inf", "²", "٣", " 1", "1.", ".5", ""):
        with pytest.raises(InvalidRequest) as refused:
            parse_amount(text, field="cost_above")
        assert refused.value.problems[0]["path"] == "cost_above"


def test_dates_and_date_times_are_read_in_utc() -> None:
    assert parse_when("2026-11-01", field="d") == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert parse_when("2026-11-01T09:30:00+02:00", field="d") == dt.datetime(2026, 11, 1, 7, 30, tzinfo=dt.UTC)
    assert parse_when("2026-11-01T09:30", field="d") == dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
    for text in ("tomorrow", "2026-02-30", "2026-11-01T25:00", "9999-12-31T23:59:59-14:00", "0000-01-01", ""):
        with pytest.raises(InvalidRequest) as refused:
            parse_when(text, field="created_after")
        assert refused.value.problems[0]["path"] == "created_after"


def test_search_text_is_bounded_and_free_of_nul() -> None:
    assert parse_text("timed out", field="error") == "timed out"
    for text in ("a\x00b", "x" * 501):
        with pytest.raises(InvalidRequest) as refused:
            parse_text(text, field="error")
        assert refused.value.problems[0]["path"] == "error"
