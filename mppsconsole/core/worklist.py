"""Worklist items: the orders a modality picks from (one Scheduled Procedure Step each)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

from mppsconsole.core.codes import Code
from mppsconsole.core.dicomtime import parse_date, parse_time
from mppsconsole.core.errors import InputError

SCHEDULED = "SCHEDULED"
#: Coding scheme of the protocol codes the console makes up for its own orders.
LOCAL_CODING_SCHEME = "99MPPSC"
FINISHED_STATUSES = frozenset({"COMPLETED", "DISCONTINUED"})
SEXES = ("M", "F", "O", "")

#: Specific Character Sets an item may be served in, and the Python codec of each;
#: "" is the default repertoire, widened to UTF-8 when a value needs it.
CHARACTER_SETS = {"": "ascii", "ISO_IR 100": "latin-1", "ISO_IR 192": "utf-8", "GB18030": "gb18030"}

_CS = re.compile(r"^[A-Z0-9_ ]{1,16}$")
_AE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{0,16}$")  # default repertoire, no backslash


@dataclasses.dataclass(frozen=True)
class WorklistItem:
    """One scheduled procedure step with its patient and requested procedure."""

    patient_name: str
    patient_id: str
    modality: str
    scheduled_start: dt.datetime
    accession_number: str
    study_instance_uid: str
    requested_procedure_id: str
    scheduled_step_id: str
    birth_date: str = ""
    sex: str = ""
    description: str = ""
    scheduled_station_ae: str = ""
    referring_physician: str = ""
    step_description: str = ""
    protocol_code_value: str = ""
    protocol_coding_scheme: str = ""
    protocol_code_meaning: str = ""
    #: Specific Character Set the worklist SCP answers this item in ("": UTF-8 when needed).
    character_set: str = ""
    status: str = SCHEDULED
    source: str = "local"
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The worklist object of the command-line contract (DESIGN.md §4)."""
        return {
            "patient_name": self.patient_name,
            "patient_id": self.patient_id,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "accession_number": self.accession_number,
            "modality": self.modality,
            "scheduled_station_ae": self.scheduled_station_ae,
            "scheduled_start": self.scheduled_start.isoformat(),
            "study_instance_uid": self.study_instance_uid,
            "requested_procedure_id": self.requested_procedure_id,
            "scheduled_step_id": self.scheduled_step_id,
            "description": self.description,
            "referring_physician": self.referring_physician,
            "step_description": self.step_description,
            "protocol_code_value": self.protocol.value,
            "protocol_coding_scheme": self.protocol.scheme,
            "protocol_code_meaning": self.protocol.meaning,
            "character_set": self.character_set,
            "status": self.status,
            "source": self.source,
        }

    @property
    def protocol(self) -> Code:
        """The Scheduled Protocol Code: as received, or one derived for local orders."""
        if self.protocol_code_value:
            return Code(
                self.protocol_code_value, self.protocol_coding_scheme, self.protocol_code_meaning
            )
        return Code(
            f"{self.modality}-{self.requested_procedure_id}"[:16],
            LOCAL_CODING_SCHEME,
            (self.description or f"{self.modality} procedure")[:64],
        )


def new_uid() -> str:
    """A globally unique UID (the 2.25 UUID-derived root of PS3.5 B.2)."""
    return f"2.25.{uuid.uuid4().int}"


def new_number(prefix: str) -> str:
    """A short, practically unique identifier (accession, procedure, step IDs)."""
    # 12 random digits: a collision needs ~10^6 items before it gets likely.
    return f"{prefix}{uuid.uuid4().int % 10**12:012d}"


def _check(pattern: re.Pattern[str], value: str, field: str) -> str:
    if not pattern.match(value):
        raise InputError(f"invalid {field} {value!r}")
    return value


def _scheduled_start(fields: Mapping[str, str]) -> dt.datetime:
    if fields.get("scheduled_start"):
        try:
            return dt.datetime.fromisoformat(fields["scheduled_start"])
        except ValueError:
            raise InputError(
                f"invalid scheduled_start {fields['scheduled_start']!r} (expected ISO 8601)"
            ) from None
    if not fields.get("date"):
        raise InputError("missing date (or scheduled_start)")
    day = dt.date.today() if fields["date"].lower() == "today" else parse_date(fields["date"])
    moment = parse_time(fields["time"]) if fields.get("time") else dt.time(0)
    return dt.datetime.combine(day, moment)


def _character_set(text: Mapping[str, str]) -> str:
    """The item's Specific Character Set, checked against the text it must carry."""
    name = text.get("character_set", "").upper().replace("-", "_")
    if name not in CHARACTER_SETS:
        known = ", ".join(repr(c) for c in CHARACTER_SETS if c)
        raise InputError(f"unknown character_set {name!r} (expected {known} or empty)")
    if not name:
        return name
    for field in ("patient_name", "description", "referring_physician", "step_description"):
        try:
            text.get(field, "").encode(CHARACTER_SETS[name])
        except UnicodeEncodeError:
            raise InputError(f"{field} {text[field]!r} cannot be written in {name}") from None
    return name


def build_item(fields: Mapping[str, Any]) -> WorklistItem:
    """A validated item from user-supplied text fields, identifiers generated when absent.

    Accepted keys are those of :meth:`WorklistItem.to_json`, with ``date`` and
    ``time`` as an alternative to ``scheduled_start``.
    """
    known = {f.name for f in dataclasses.fields(WorklistItem)} | {"date", "time"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise InputError("unknown field " + ", ".join(unknown))
    text = {k: "" if v is None else str(v).strip() for k, v in fields.items()}
    for required in ("patient_name", "patient_id", "modality"):
        if not text.get(required):
            raise InputError(f"missing {required}")
    if len(text["patient_id"]) > 64 or "\\" in text["patient_id"]:
        raise InputError(f"invalid patient_id {text['patient_id']!r}")
    if "\\" in text["patient_name"] or len(text["patient_name"]) > 324:
        raise InputError(f"invalid patient_name {text['patient_name']!r}")
    birth_date = text.get("birth_date", "")
    if birth_date:
        parse_date(birth_date)
    sex = text.get("sex", "").upper()
    if sex not in SEXES:
        raise InputError(f"invalid sex {sex!r} (expected M, F or O)")
    character_set = _character_set(text)
    return WorklistItem(
        patient_name=text["patient_name"],
        patient_id=text["patient_id"],
        modality=_check(_CS, text["modality"].upper(), "modality"),
        scheduled_start=_scheduled_start(text),
        accession_number=text.get("accession_number") or new_number("A"),
        study_instance_uid=text.get("study_instance_uid") or new_uid(),
        requested_procedure_id=text.get("requested_procedure_id") or new_number("RP"),
        scheduled_step_id=text.get("scheduled_step_id") or new_number("SPS"),
        birth_date=birth_date,
        sex=sex,
        description=text.get("description", ""),
        scheduled_station_ae=_check(_AE, text.get("scheduled_station_ae", ""), "station AE"),
        referring_physician=text.get("referring_physician", ""),
        step_description=text.get("step_description", ""),
        protocol_code_value=text.get("protocol_code_value", ""),
        protocol_coding_scheme=text.get("protocol_coding_scheme", ""),
        protocol_code_meaning=text.get("protocol_code_meaning", ""),
        character_set=character_set,
        status=text.get("status") or SCHEDULED,
        source=text.get("source") or "local",
    )
