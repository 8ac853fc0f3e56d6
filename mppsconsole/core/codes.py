"""Coded entries the console sends: CID 9300 Procedure Discontinuation Reasons."""

from __future__ import annotations

import dataclasses

from mppsconsole.core.errors import InputError


@dataclasses.dataclass(frozen=True)
class Code:
    value: str
    scheme: str
    meaning: str


#: PS3.16 CID 9300 (scheme DCM), in the order the standard lists them.
DISCONTINUATION_REASONS: tuple[Code, ...] = tuple(
    Code(value, "DCM", meaning)
    for value, meaning in (
        ("110500", "Doctor canceled procedure"),
        ("110501", "Equipment failure"),
        ("110502", "Incorrect procedure ordered"),
        ("110503", "Patient allergic to media/contrast"),
        ("110504", "Patient died"),
        ("110505", "Patient refused to continue procedure"),
        ("110506", "Patient taken for treatment or surgery"),
        ("110507", "Patient did not arrive"),
        ("110508", "Patient pregnant"),
        ("110509", "Change of procedure for correct charging"),
        ("110510", "Duplicate order"),
        ("110511", "Nursing unit cancel"),
        ("110512", "Incorrect side ordered"),
        ("110513", "Discontinued for unspecified reason"),
        ("110514", "Incorrect worklist entry selected"),
        ("110515", "Patient condition prevented continuing"),
        ("110516", "Equipment change"),
    )
)
DEFAULT_DISCONTINUATION_REASON = "110513"


def discontinuation_reason(value: str) -> Code:
    """The CID 9300 code with this code value; InputError lists where to look otherwise."""
    for code in DISCONTINUATION_REASONS:
        if code.value == value.strip():
            return code
    raise InputError(
        f"unknown discontinuation reason {value!r}: use a CID 9300 code value "
        "(mppsconsole mpps discontinue --reason list)"
    )
