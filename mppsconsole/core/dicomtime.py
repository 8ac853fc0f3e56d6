"""DICOM DA/TM values <-> Python dates, and the date arguments of the CLI."""

from __future__ import annotations

import datetime as dt
import re

from mppsconsole.core.errors import InputError

_DA = re.compile(r"^\d{8}$")
# HH[MM[SS[.F{1,6}]]] (PS3.5 TM): a fraction only after seconds, so "10.30" is refused
# rather than read as 10:00:00.3.
_TM = re.compile(r"^(\d{2})(?:(\d{2})(?:(\d{2})(\.\d{1,6})?)?)?$")


def parse_date(value: str) -> dt.date:
    """A DA value (YYYYMMDD) as a date; InputError names the value otherwise."""
    value = value.strip()
    if not _DA.match(value):
        raise InputError(f"invalid date {value!r} (expected YYYYMMDD)")
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise InputError(f"invalid date {value!r} (no such day)") from None


def parse_time(value: str) -> dt.time:
    """A TM value (HH, HHMM, HHMMSS, HHMMSS.FFFFFF; colons tolerated) as a time."""
    match = _TM.match(value.strip().replace(":", ""))
    if not match:
        raise InputError(f"invalid time {value!r} (expected HHMM or HHMMSS)")
    hour, minute, second, fraction = match.groups()
    try:
        return dt.time(
            int(hour),
            int(minute or 0),
            int(second or 0),
            int((fraction or ".0")[1:].ljust(6, "0")),
        )
    except ValueError:
        raise InputError(f"invalid time {value!r} (out of range)") from None


def to_datetime(da: str, tm: str) -> dt.datetime | None:
    """Combine DA and TM values; None when the date is absent or unreadable."""
    try:
        day = parse_date(da)
    except InputError:
        return None
    try:
        moment = parse_time(tm) if tm.strip() else dt.time(0)
    except InputError:
        moment = dt.time(0)
    return dt.datetime.combine(day, moment)


def format_da(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def format_tm(moment: dt.time | dt.datetime) -> str:
    return moment.strftime("%H%M%S")


def date_argument(value: str, today: dt.date | None = None) -> str:
    """The CLI's ``D`` (``YYYYMMDD``, ``A-B`` range or ``today``) as a DICOM DA match."""
    today = today or dt.date.today()
    value = value.strip()
    if value.lower() == "today":
        return format_da(today)
    if "-" in value:
        low, _, high = value.partition("-")
        for part in (low, high):
            if part:
                parse_date(part)
        if not low and not high:
            raise InputError("a date range needs at least one end")
        return f"{low}-{high}"
    return format_da(parse_date(value))
