"""Modality Worklist C-FIND matching (PS3.4 C.2.2.2).

Single value, wildcard (``*`` and ``?``), UID list, date/time range and
combined date-time range matching, universal matching for empty keys, and
case-insensitive person names. A query is compiled once and then applied to
every item, because a worklist query runs over thousands of items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable

from mppsconsole.core.worklist import WorklistItem

Matcher = Callable[[WorklistItem], bool]


@dataclasses.dataclass(frozen=True)
class WorklistQuery:
    """The matching keys of a worklist query; an empty key matches everything."""

    patient_name: str = ""
    patient_id: str = ""
    accession_number: str = ""
    requested_procedure_id: str = ""
    study_instance_uid: str = ""
    scheduled_step_id: str = ""
    modality: str = ""
    scheduled_station_ae: str = ""
    start_date: str = ""
    start_time: str = ""
    referring_physician: str = ""
    status: str = ""


def _is_universal(pattern: str) -> bool:
    return pattern.strip(" ") in ("", "*")


def string_matcher(pattern: str, *, ignore_case: bool = False) -> Callable[[str], bool]:
    """Single value or wildcard matching of one string value (C.2.2.2.1/4)."""
    pattern = pattern.strip(" ")
    flags = re.IGNORECASE if ignore_case else 0
    if "*" in pattern or "?" in pattern:
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        compiled = re.compile(regex + r"\Z", flags | re.DOTALL)
        return lambda value: compiled.match(value.strip(" ")) is not None
    if ignore_case:
        folded = pattern.casefold()
        return lambda value: value.strip(" ").casefold() == folded
    return lambda value: value.strip(" ") == pattern


def uid_list_matcher(pattern: str) -> Callable[[str], bool]:
    """List of UID matching (C.2.2.2.2): any of the backslash-separated UIDs."""
    wanted = frozenset(uid.strip(" \0") for uid in pattern.split("\\"))
    return lambda value: value in wanted


_LOW_TIME = "000000.000000"
_HIGH_TIME = "235959.999999"


def _split_range(pattern: str) -> tuple[str, str]:
    """(low, high) of ``A-B``, ``A-``, ``-B`` or a single value ``A`` (both ends A)."""
    if "-" in pattern:
        low, _, high = pattern.partition("-")
        return low.strip(), high.strip()
    return pattern.strip(), pattern.strip()


def _pad(raw: str, template: str) -> str:
    return raw + template[len(raw) :]


def date_range_matcher(pattern: str) -> Callable[[dt.date], bool]:
    """Single date or date range matching (C.2.2.2.5), ends inclusive."""
    low, high = _split_range(pattern)
    high = high or "99999999"
    if all(len(end) == 8 and end.isdigit() for end in (low or "00000000", high)):
        # The usual full dates: compare yyyymmdd as a number, not a strftime() per item.
        first, last = int(low or 0), int(high)
        return lambda day: first <= day.year * 10000 + day.month * 100 + day.day <= last
    return lambda day: low <= day.strftime("%Y%m%d") <= high


def time_range_matcher(pattern: str) -> Callable[[dt.time], bool]:
    """Single time or time range matching; a partial time covers its whole hour/minute."""
    low, high = _split_range(pattern.replace(":", ""))
    low = _pad(low, _LOW_TIME) if low else ""
    high = _pad(high, _HIGH_TIME) if high else "~"
    return lambda moment: low <= moment.strftime("%H%M%S.%f") <= high


def datetime_range_matcher(date_pattern: str, time_pattern: str) -> Callable[[dt.datetime], bool]:
    """Combined date-time range matching (C.2.2.2.5.1) when both keys are ranges."""
    d_low, d_high = _split_range(date_pattern)
    t_low, t_high = _split_range(time_pattern.replace(":", ""))
    low = d_low + _pad(t_low, _LOW_TIME) if d_low else ""
    high = d_high + _pad(t_high, _HIGH_TIME) if d_high else "~"
    return lambda moment: low <= moment.strftime("%Y%m%d%H%M%S.%f") <= high


def compile_query(query: WorklistQuery) -> Matcher:
    """One predicate for all keys of ``query`` (items must match every key)."""
    tests: list[Matcher] = []

    def on(getter: Callable[[WorklistItem], str], check: Callable[[str], bool]) -> None:
        tests.append(lambda item: check(getter(item)))

    if not _is_universal(query.patient_name):
        on(lambda i: i.patient_name, string_matcher(query.patient_name, ignore_case=True))
    if not _is_universal(query.referring_physician):
        on(
            lambda i: i.referring_physician,
            string_matcher(query.referring_physician, ignore_case=True),
        )
    for field in (
        "patient_id",
        "accession_number",
        "requested_procedure_id",
        "scheduled_step_id",
        "modality",
        "scheduled_station_ae",
        "status",
    ):
        pattern = getattr(query, field)
        if not _is_universal(pattern):
            on(lambda i, f=field: getattr(i, f), string_matcher(pattern))  # type: ignore[misc]
    if query.study_instance_uid.strip():
        on(lambda i: i.study_instance_uid, uid_list_matcher(query.study_instance_uid))

    date_pattern = query.start_date.strip()
    time_pattern = query.start_time.strip().replace(":", "")
    if "-" in date_pattern and "-" in time_pattern:
        combined = datetime_range_matcher(date_pattern, time_pattern)
        tests.append(lambda item: combined(item.scheduled_start))
    else:
        if date_pattern:
            day_test = date_range_matcher(date_pattern)
            tests.append(lambda item: day_test(item.scheduled_start.date()))
        if time_pattern:
            time_test = time_range_matcher(time_pattern)
            tests.append(lambda item: time_test(item.scheduled_start.time()))

    if len(tests) == 1:
        return tests[0]
    return lambda item: all(test(item) for test in tests)


def select(items: Iterable[WorklistItem], query: WorklistQuery) -> list[WorklistItem]:
    """The items that match ``query``, in the order given."""
    matcher = compile_query(query)
    return [item for item in items if matcher(item)]
