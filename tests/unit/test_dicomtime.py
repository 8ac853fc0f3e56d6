"""DA/TM values and the CLI's date argument (DESIGN.md §4: YYYYMMDD, range, today)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mppsconsole.core.dicomtime import (
    date_argument,
    format_da,
    format_tm,
    parse_date,
    parse_time,
    to_datetime,
)
from mppsconsole.core.errors import InputError, UserError

bounded = settings(max_examples=150, deadline=None)
days = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))


@bounded
@given(day=days)
def test_date_round_trips_through_da(day: dt.date) -> None:
    assert parse_date(format_da(day)) == day


@bounded
@given(moment=st.times())
def test_time_round_trips_through_tm_to_the_second(moment: dt.time) -> None:
    assert parse_time(format_tm(moment)) == moment.replace(microsecond=0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", dt.time(10)),
        ("1030", dt.time(10, 30)),
        ("103015", dt.time(10, 30, 15)),
        ("103015.5", dt.time(10, 30, 15, 500000)),
        ("103015.123456", dt.time(10, 30, 15, 123456)),
        ("10:30:15", dt.time(10, 30, 15)),
        (" 1030 ", dt.time(10, 30)),
        ("235959", dt.time(23, 59, 59)),
    ],
)
def test_parse_time_forms(value: str, expected: dt.time) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["", "1", "103", "24", "1060", "103060", "10.30", "ab", "1030-"])
def test_parse_time_rejects_invalid_values_naming_them(value: str) -> None:
    with pytest.raises(InputError, match="invalid time") as info:
        parse_time(value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", ["2026112", "202611211", "2026-11-21", "today", "", "abcdefgh"])
def test_parse_date_rejects_malformed_values(value: str) -> None:
    with pytest.raises(InputError, match="expected YYYYMMDD"):
        parse_date(value)


@pytest.mark.parametrize("value", ["20260230", "20261301", "20261100", "20250229"])
def test_parse_date_rejects_days_that_do_not_exist(value: str) -> None:
    with pytest.raises(InputError, match="no such day"):
        parse_date(value)


def test_parse_date_accepts_leap_day_and_surrounding_blanks() -> None:
    assert parse_date(" 20240229 ") == dt.date(2024, 2, 29)


def test_input_error_is_a_user_error() -> None:
    # The CLI turns UserError into one line on stderr and exit status 2, not a traceback.
    with pytest.raises(UserError):
        parse_date("x")


def test_to_datetime_combines_date_and_time() -> None:
    assert to_datetime("20261121", "101500") == dt.datetime(2026, 11, 21, 10, 15)
    assert to_datetime("20261121", "") == dt.datetime(2026, 11, 21)
    # An unreadable time still places the step on its day.
    assert to_datetime("20261121", "99") == dt.datetime(2026, 11, 21)
    assert to_datetime("", "101500") is None
    assert to_datetime("2026", "101500") is None


TODAY = dt.date(2026, 11, 21)


@pytest.mark.parametrize("value", ["today", "TODAY", " Today "])
def test_date_argument_today(value: str) -> None:
    assert date_argument(value, today=TODAY) == "20261121"


def test_date_argument_today_defaults_to_the_real_date() -> None:
    assert date_argument("today") == dt.date.today().strftime("%Y%m%d")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20261121", "20261121"),
        ("20261101-20261130", "20261101-20261130"),
        ("20261121-", "20261121-"),
        ("-20261121", "-20261121"),
    ],
)
def test_date_argument_dates_and_ranges(value: str, expected: str) -> None:
    assert date_argument(value, today=TODAY) == expected


@pytest.mark.parametrize(
    "value", ["-", "2026-11-21", "20261132", "20261101-2026113", "x-20261121", "tomorrow", ""]
)
def test_date_argument_rejects_bad_input(value: str) -> None:
    with pytest.raises(InputError):
        date_argument(value, today=TODAY)


@bounded
@given(a=days, b=days)
def test_date_argument_accepts_every_valid_range(a: dt.date, b: dt.date) -> None:
    assert date_argument(f"{format_da(a)}-{format_da(b)}") == f"{format_da(a)}-{format_da(b)}"
