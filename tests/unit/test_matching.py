"""Modality Worklist C-FIND matching (PS3.4 C.2.2.2)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mppsconsole.core.matching import (
    WorklistQuery,
    compile_query,
    date_range_matcher,
    datetime_range_matcher,
    select,
    string_matcher,
    time_range_matcher,
    uid_list_matcher,
)
from mppsconsole.core.worklist import WorklistItem

bounded = settings(max_examples=150, deadline=None)

# Values as they come in DICOM strings: no leading/trailing spaces (the SCP strips them).
# Latin letters whose upper/lower case forms map one to one (no "ß" -> "SS").
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzÄÖÜÉÈÑÇØÅäöüéèñçøå"
ID_CHARS = LETTERS + "0123456789-._^ "
values = st.text(alphabet=ID_CHARS, min_size=1, max_size=20).map(str.strip).filter(bool)
names = st.text(alphabet=LETTERS + "^ -'", min_size=1, max_size=30).map(str.strip).filter(bool)
days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
minutes = st.times().map(lambda t: t.replace(second=0, microsecond=0))
moments = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31))


def item(**overrides: object) -> WorklistItem:
    base = WorklistItem(
        patient_name="Doe^Jane",
        patient_id="P1",
        modality="CT",
        scheduled_start=dt.datetime(2026, 11, 21, 10, 15),
        accession_number="A1",
        study_instance_uid="1.2.3",
        requested_procedure_id="RP1",
        scheduled_step_id="SPS1",
        scheduled_station_ae="CT1",
        referring_physician="House^Gregory",
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def matches(query: WorklistQuery, target: WorklistItem) -> bool:
    return compile_query(query)(target)


def da(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def hhmm(moment: dt.time) -> str:
    return moment.strftime("%H%M")


# --- single value and wildcards -----------------------------------------------


@bounded
@given(value=values)
def test_single_value_matches_itself(value: str) -> None:
    assert string_matcher(value)(value)


@bounded
@given(value=values, data=st.data())
def test_question_marks_in_place_of_characters_always_match(
    value: str, data: st.DataObject
) -> None:
    positions = data.draw(st.sets(st.integers(0, len(value) - 1)))
    pattern = "".join("?" if i in positions else c for i, c in enumerate(value))
    assert string_matcher(pattern)(value)
    assert matches(WorklistQuery(patient_id=pattern), item(patient_id=value))


@bounded
@given(value=values, data=st.data())
def test_star_in_place_of_a_suffix_always_matches(value: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(value)))
    pattern = value[:cut] + "*"
    assert string_matcher(pattern)(value)
    assert matches(WorklistQuery(accession_number=pattern), item(accession_number=value))


@bounded
@given(value=values, data=st.data())
def test_star_in_place_of_any_infix_always_matches(value: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(value)))
    end = data.draw(st.integers(start, len(value)))
    assert string_matcher(value[:start] + "*" + value[end:])(value)


@bounded
@given(value=values, extra=st.text(alphabet="0123456789", min_size=1, max_size=3))
def test_question_mark_matches_exactly_one_character(value: str, extra: str) -> None:
    pattern = "?" * len(value)
    assert string_matcher(pattern)(value)
    assert not string_matcher(pattern)(value + extra)
    assert not string_matcher(pattern + "?")(value)


@bounded
@given(value=values, other=values)
def test_single_value_is_exact(value: str, other: str) -> None:
    assert string_matcher(value)(other) == (value == other)


@pytest.mark.parametrize("pattern", ["Doe^J*", "*^Jane", "D?e^Jane", "*", "Doe*Jane"])
def test_wildcard_examples_match(pattern: str) -> None:
    assert string_matcher(pattern)("Doe^Jane")


@pytest.mark.parametrize("pattern", ["Doe^J", "Doe^Jane?", "?Doe^Jane", "Doe^X*", "Doe.Jane"])
def test_wildcard_examples_do_not_match(pattern: str) -> None:
    assert not string_matcher(pattern)("Doe^Jane")


def test_regex_metacharacters_in_pattern_are_literal() -> None:
    assert string_matcher("A.1+(x)*")("A.1+(x)-rest")
    assert not string_matcher("A.1*")("AB1")
    assert not string_matcher("[AB]*")("A")


def test_trailing_padding_is_ignored() -> None:
    assert string_matcher("CT ")("CT")
    assert string_matcher("CT")("CT ")


def test_non_person_name_keys_are_case_sensitive() -> None:
    assert not matches(WorklistQuery(modality="ct"), item(modality="CT"))
    assert not matches(WorklistQuery(patient_id="p1"), item(patient_id="P1"))
    assert not matches(WorklistQuery(accession_number="a*"), item(accession_number="A1"))


# --- person names ---------------------------------------------------------------


@bounded
@given(name=names, fold=st.sampled_from([str.upper, str.lower, str.swapcase, str.title]))
def test_person_names_match_regardless_of_case(name: str, fold) -> None:  # type: ignore[no-untyped-def]
    assert matches(WorklistQuery(patient_name=fold(name)), item(patient_name=name))
    assert matches(WorklistQuery(referring_physician=fold(name)), item(referring_physician=name))


@bounded
@given(name=names, data=st.data())
def test_person_name_wildcards_match_regardless_of_case(name: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(name)))
    pattern = name[:cut].swapcase() + "*"
    assert matches(WorklistQuery(patient_name=pattern), item(patient_name=name))


@bounded
@given(name=names, other=names)
def test_person_names_differing_beyond_case_do_not_match(name: str, other: str) -> None:
    expected = name.casefold() == other.casefold()
    assert matches(WorklistQuery(patient_name=other), item(patient_name=name)) == expected


# --- universal matching and combined keys -----------------------------------


@pytest.mark.parametrize("empty", ["", " ", "*"])
def test_empty_or_star_key_matches_everything(empty: str) -> None:
    query = WorklistQuery(
        patient_name=empty,
        patient_id=empty,
        accession_number=empty,
        modality=empty,
        scheduled_station_ae=empty,
        referring_physician=empty,
    )
    assert matches(query, item())
    assert matches(query, item(patient_name="", referring_physician="", accession_number=""))


def test_all_keys_must_match() -> None:
    target = item()
    assert matches(WorklistQuery(modality="CT", patient_id="P1", start_date="20261121"), target)
    assert not matches(WorklistQuery(modality="CT", patient_id="P2"), target)
    assert not matches(WorklistQuery(modality="MR", patient_id="P1"), target)
    assert not matches(WorklistQuery(modality="CT", start_date="20261122"), target)
    assert not matches(WorklistQuery(scheduled_station_ae="CT2"), target)
    assert not matches(WorklistQuery(status="COMPLETED"), target)
    assert matches(WorklistQuery(status="SCHEDULED"), target)


def test_select_keeps_matching_items_in_order() -> None:
    items = [
        item(patient_id="P3", modality="MR"),
        item(patient_id="P1"),
        item(patient_id="P2", modality="MR"),
    ]
    chosen = select(items, WorklistQuery(modality="MR"))
    assert [i.patient_id for i in chosen] == ["P3", "P2"]


# --- UID lists ------------------------------------------------------------------


def test_uid_list_matches_any_listed_uid() -> None:
    matcher = uid_list_matcher("1.2.3\\1.2.4 \\1.2.5")
    assert matcher("1.2.3")
    assert matcher("1.2.4")
    assert matcher("1.2.5")
    assert not matcher("1.2")
    assert not matcher("1.2.3.4")


def test_uid_key_is_not_a_wildcard_or_prefix_match() -> None:
    assert not matches(WorklistQuery(study_instance_uid="1.2.*"), item())
    assert not matches(WorklistQuery(study_instance_uid="1.2"), item())
    assert matches(WorklistQuery(study_instance_uid="9.9\\1.2.3"), item())


# --- date and time ranges -------------------------------------------------------


@bounded
@given(day=days, a=days, b=days)
def test_date_range_matches_exactly_the_days_inside(day: dt.date, a: dt.date, b: dt.date) -> None:
    low, high = min(a, b), max(a, b)
    expected = low <= day <= high
    assert date_range_matcher(f"{da(low)}-{da(high)}")(day) == expected
    query = WorklistQuery(start_date=f"{da(low)}-{da(high)}")
    assert matches(query, item(scheduled_start=dt.datetime.combine(day, dt.time(12)))) == expected


@bounded
@given(day=days, bound=days)
def test_open_date_ranges(day: dt.date, bound: dt.date) -> None:
    assert date_range_matcher(f"{da(bound)}-")(day) == (day >= bound)
    assert date_range_matcher(f"-{da(bound)}")(day) == (day <= bound)


@bounded
@given(day=days, other=days)
def test_single_date_matches_only_that_day(day: dt.date, other: dt.date) -> None:
    assert date_range_matcher(da(other))(day) == (day == other)


def test_date_range_ends_are_inclusive_at_any_time_of_day() -> None:
    query = WorklistQuery(start_date="20261120-20261121")
    assert matches(query, item(scheduled_start=dt.datetime(2026, 11, 20, 0, 0)))
    assert matches(query, item(scheduled_start=dt.datetime(2026, 11, 21, 23, 59, 59)))
    assert not matches(query, item(scheduled_start=dt.datetime(2026, 11, 22, 0, 0)))
    assert not matches(query, item(scheduled_start=dt.datetime(2026, 11, 19, 23, 59, 59)))


@bounded
@given(moment=st.times(), a=minutes, b=minutes)
def test_time_range_covers_whole_minutes_at_both_ends(
    moment: dt.time, a: dt.time, b: dt.time
) -> None:
    low, high = min(a, b), max(a, b)
    high_end = high.replace(second=59, microsecond=999999)
    assert time_range_matcher(f"{hhmm(low)}-{hhmm(high)}")(moment) == (low <= moment <= high_end)


@bounded
@given(moment=st.times(), bound=minutes)
def test_open_time_ranges(moment: dt.time, bound: dt.time) -> None:
    assert time_range_matcher(f"{hhmm(bound)}-")(moment) == (moment >= bound)
    bound_end = bound.replace(second=59, microsecond=999999)
    assert time_range_matcher(f"-{hhmm(bound)}")(moment) == (moment <= bound_end)


@pytest.mark.parametrize(
    ("pattern", "inside", "outside"),
    [
        ("10", dt.time(10, 59, 59), dt.time(11, 0)),
        ("1030", dt.time(10, 30, 59, 999999), dt.time(10, 31)),
        ("103015", dt.time(10, 30, 15, 500000), dt.time(10, 30, 16)),
        ("10:30-11:00", dt.time(11, 0, 30), dt.time(10, 29, 59)),
    ],
)
def test_partial_times(pattern: str, inside: dt.time, outside: dt.time) -> None:
    matcher = time_range_matcher(pattern)
    assert matcher(inside)
    assert not matcher(outside)


def test_time_key_alone_matches_any_day() -> None:
    query = WorklistQuery(start_time="1000-1030")
    assert matches(query, item(scheduled_start=dt.datetime(2026, 1, 1, 10, 15)))
    assert not matches(query, item(scheduled_start=dt.datetime(2026, 1, 1, 10, 31)))


# --- combined date-time range (C.2.2.2.5.1) ----------------------------------


def test_combined_date_time_range_is_one_continuous_period() -> None:
    query = WorklistQuery(start_date="20261120-20261121", start_time="1000-1030")
    assert matches(query, item(scheduled_start=dt.datetime(2026, 11, 20, 23, 0)))
    assert matches(query, item(scheduled_start=dt.datetime(2026, 11, 21, 3, 0)))
    assert matches(query, item(scheduled_start=dt.datetime(2026, 11, 20, 10, 0)))
    assert matches(query, item(scheduled_start=dt.datetime(2026, 11, 21, 10, 30, 59)))
    assert not matches(query, item(scheduled_start=dt.datetime(2026, 11, 21, 11, 0)))
    assert not matches(query, item(scheduled_start=dt.datetime(2026, 11, 20, 9, 59)))


def test_single_date_with_time_range_is_not_combined() -> None:
    # Only when both keys are ranges; otherwise each key matches on its own.
    query = WorklistQuery(start_date="20261120", start_time="1000-1030")
    assert matches(query, item(scheduled_start=dt.datetime(2026, 11, 20, 10, 15)))
    assert not matches(query, item(scheduled_start=dt.datetime(2026, 11, 20, 23, 0)))


def test_date_range_with_single_time_is_not_combined() -> None:
    query = WorklistQuery(start_date="20261120-20261121", start_time="1000")
    assert matches(query, item(scheduled_start=dt.datetime(2026, 11, 21, 10, 0, 30)))
    assert not matches(query, item(scheduled_start=dt.datetime(2026, 11, 20, 23, 0)))


@bounded
@given(moment=moments, d1=days, d2=days, t1=minutes, t2=minutes)
def test_combined_range_matches_exactly_the_period_between_its_ends(
    moment: dt.datetime, d1: dt.date, d2: dt.date, t1: dt.time, t2: dt.time
) -> None:
    (d_low, t_low), (d_high, t_high) = sorted([(d1, t1), (d2, t2)])
    start = dt.datetime.combine(d_low, t_low)
    end = dt.datetime.combine(d_high, t_high.replace(second=59, microsecond=999999))
    date_pattern = f"{da(d_low)}-{da(d_high)}"
    time_pattern = f"{hhmm(t_low)}-{hhmm(t_high)}"
    expected = start <= moment <= end
    assert datetime_range_matcher(date_pattern, time_pattern)(moment) == expected
    query = WorklistQuery(start_date=date_pattern, start_time=time_pattern)
    assert matches(query, item(scheduled_start=moment)) == expected


@bounded
@given(moment=moments, day=days, time=minutes)
def test_combined_open_ranges(moment: dt.datetime, day: dt.date, time: dt.time) -> None:
    start = dt.datetime.combine(day, time)
    end = dt.datetime.combine(day, time.replace(second=59, microsecond=999999))
    since = WorklistQuery(start_date=f"{da(day)}-", start_time=f"{hhmm(time)}-")
    until = WorklistQuery(start_date=f"-{da(day)}", start_time=f"-{hhmm(time)}")
    assert matches(since, item(scheduled_start=moment)) == (moment >= start)
    assert matches(until, item(scheduled_start=moment)) == (moment <= end)
