"""Scenario files: a modality's day as TOML, parsed and checked before anything is sent.

A scenario lists patients, their orders (worklist items), the procedure steps
performed on them (when each starts, how long it lasts, how many images, how it
ends) and expectations to check against the peer. Times are offsets in seconds
from the start of the run; a runner may play them faster (``--speed``).

Every mistake names the file and line, like the settings file: people write
these by hand.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mppsconsole.core.codes import DEFAULT_DISCONTINUATION_REASON, Code, discontinuation_reason
from mppsconsole.core.errors import InputError
from mppsconsole.core.mpps import COMPLETED, DISCONTINUED, IN_PROGRESS
from mppsconsole.core.settings import valid_ae_title

OUTCOMES = {"completed": COMPLETED, "discontinued": DISCONTINUED, "in_progress": IN_PROGRESS}
#: What an ``[[expect]]`` may check, and the keys each kind needs besides ``what``.
EXPECTATIONS: dict[str, tuple[str, ...]] = {
    "worklist": ("order",),  # a worklist query for the order's accession returns it
    "create_status": ("step", "status"),  # the N-CREATE's DIMSE status
    "set_status": ("step", "status"),  # the final N-SET's DIMSE status
    "final_status": ("step", "status"),  # IN PROGRESS / COMPLETED / DISCONTINUED
    "images": ("step", "count"),  # images stored for the step
    "commitment": ("step",),  # storage commitment: every image committed
}
_CS = re.compile(r"^[A-Z0-9_ ]{1,16}$")
_HEADER = re.compile(r"^[ \t]*\[\[?[ \t]*([^\]\n]*?)[ \t]*\]\]?[ \t]*(?:#.*)?$", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Patient:
    id: str
    name: str
    birth_date: str = ""
    sex: str = ""


@dataclasses.dataclass(frozen=True)
class Order:
    """A worklist item: imported into our own worklist, or expected on the peer's."""

    accession: str
    patient: Patient
    procedure: str
    scheduled: float  # seconds after the run's start
    modality: str  # the scenario's unless the order says otherwise


@dataclasses.dataclass(frozen=True)
class Step:
    number: int  # 1-based, in file order (expectations refer to it)
    patient: Patient
    order: Order | None  # None: unscheduled
    start: float
    duration: float
    images: int
    outcome: str  # a key of OUTCOMES
    reason: Code | None
    commit: bool
    modality: str  # the order's, or for an unscheduled step its own or the scenario's


@dataclasses.dataclass(frozen=True)
class Expectation:
    what: str
    line: int
    step: int | None = None
    order: str | None = None
    status: str | int | None = None
    count: int | None = None

    def describe(self) -> str:
        target = f"step {self.step}" if self.step is not None else f"order {self.order}"
        wanted = {
            "worklist": "worklist returns it",
            "create_status": f"N-CREATE status 0x{self.status:04X}"
            if isinstance(self.status, int)
            else "",
            "set_status": f"N-SET status 0x{self.status:04X}"
            if isinstance(self.status, int)
            else "",
            "final_status": f"ends {self.status}",
            "images": f"{self.count} image(s) stored",
            "commitment": "all images committed",
        }[self.what]
        return f"{target}: {wanted} (line {self.line})"


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    modality: str
    station_ae: str
    patients: tuple[Patient, ...]
    orders: tuple[Order, ...]
    steps: tuple[Step, ...]
    expectations: tuple[Expectation, ...]


class _Table:
    """One table of the file, with errors pointing at the line of the key."""

    def __init__(self, path: str, text: str, data: dict[str, Any], name: str, index: int) -> None:
        self.path, self.text, self.data, self.name, self.index = path, text, data, name, index

    def line(self, key: str | None = None) -> int:
        headers = list(_HEADER.finditer(self.text))
        own = [h for h in headers if h.group(1) == self.name]
        if len(own) <= self.index:
            return 1
        header = own[self.index]
        end = next((h.start() for h in headers if h.start() > header.start()), len(self.text))
        start = header.start()
        if key is not None:
            found = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=", re.MULTILINE).search(
                self.text, header.end(), end
            )
            start = found.start() if found else start
        return self.text.count("\n", 0, start) + 1

    def fail(self, key: str | None, message: str) -> InputError:
        where = f"[{self.name}]" + (f" {key}" if key else "")
        return InputError(f"{self.path}:{self.line(key)}: {where}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        if key not in self.data:
            if default is None:
                raise self.fail(None, f"missing {key}")
            return default
        value = self.data[key]
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise self.fail(key, f"unexpected value {value!r}")
        return value

    def text_value(self, key: str, default: str | None = None) -> str:
        return str(self.get(key, str, default)).strip()

    def seconds(self, key: str, default: float) -> float:
        value = self.get(key, (int, float), default)
        if value < 0:
            raise self.fail(key, "must not be negative")
        return float(value)

    def check_keys(self, known: Sequence[str]) -> None:
        for key in self.data:
            if key not in known:
                raise self.fail(key, f"unknown key (known: {', '.join(known)})")


def _tables(path: str, text: str, data: dict[str, Any], name: str) -> list[_Table]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise InputError(f"{path}: {name} must be an array of tables ([[{name}]])")
    return [_Table(path, text, t, name, i) for i, t in enumerate(value)]


def _patient(table: _Table) -> Patient:
    table.check_keys(("id", "name", "birth_date", "sex"))
    patient = Patient(
        id=table.text_value("id"),
        name=table.text_value("name"),
        birth_date=table.text_value("birth_date", ""),
        sex=table.text_value("sex", "").upper(),
    )
    if not patient.id or "\\" in patient.id or len(patient.id) > 64:
        raise table.fail("id", f"invalid patient ID {patient.id!r}")
    if not patient.name or "\\" in patient.name:
        raise table.fail("name", f"invalid patient name {patient.name!r}")
    if patient.birth_date and not re.fullmatch(r"\d{8}", patient.birth_date):
        raise table.fail("birth_date", "expected YYYYMMDD")
    if patient.sex not in ("M", "F", "O", ""):
        raise table.fail("sex", "expected M, F or O")
    return patient


def _lookup_patient(table: _Table, key: str, patients: dict[str, Patient]) -> Patient:
    wanted = table.text_value(key)
    if wanted not in patients:
        raise table.fail(key, f"no [[patient]] with id {wanted!r}")
    return patients[wanted]


def _modality(table: _Table, default: str) -> str:
    modality = table.text_value("modality", default).upper()
    if not _CS.match(modality):
        raise table.fail("modality", f"invalid modality {modality!r}")
    return modality


def _order(table: _Table, patients: dict[str, Patient], modality: str) -> Order:
    table.check_keys(("accession", "patient", "procedure", "scheduled", "modality"))
    accession = table.text_value("accession")
    if not accession or len(accession) > 16 or "\\" in accession:
        raise table.fail("accession", f"invalid accession number {accession!r} (1-16 characters)")
    return Order(
        accession=accession,
        patient=_lookup_patient(table, "patient", patients),
        procedure=table.text_value("procedure", ""),
        scheduled=table.seconds("scheduled", 0.0),
        modality=_modality(table, modality),
    )


def _step(
    table: _Table,
    number: int,
    patients: dict[str, Patient],
    orders: dict[str, Order],
    modality: str,
) -> Step:
    keys = ("order", "patient", "start", "duration", "images", "outcome", "reason", "commit")
    order = None
    if "order" in table.data:
        table.check_keys(keys)  # a scheduled step's modality is its order's
        accession = table.text_value("order")
        if accession not in orders:
            raise table.fail("order", f"no [[order]] with accession {accession!r}")
        order = orders[accession]
        patient, modality = order.patient, order.modality
    elif "patient" in table.data:
        table.check_keys((*keys, "modality"))
        patient = _lookup_patient(table, "patient", patients)
        modality = _modality(table, modality)
    else:
        raise table.fail(None, "give order (a scheduled step) or patient (unscheduled)")
    outcome = table.text_value("outcome", "completed").lower()
    if outcome not in OUTCOMES:
        raise table.fail("outcome", f"expected one of {', '.join(OUTCOMES)}")
    reason = None
    if outcome == "discontinued":
        code = table.text_value("reason", DEFAULT_DISCONTINUATION_REASON)
        try:
            reason = discontinuation_reason(code)
        except InputError as exc:
            raise table.fail("reason", str(exc)) from None
    elif "reason" in table.data:
        raise table.fail("reason", "only a discontinued step has a reason")
    images = table.get("images", int, 0)
    if not 0 <= images <= 10_000:
        raise table.fail("images", "expected 0 to 10000")
    return Step(
        number=number,
        patient=patient,
        order=order,
        start=table.seconds("start", 0.0),
        duration=table.seconds("duration", 0.0),
        images=images,
        outcome=outcome,
        reason=reason,
        commit=table.get("commit", bool, False),
        modality=modality,
    )


def _status(table: _Table, what: str) -> str | int:
    value = table.get("status", (str, int))
    if what == "final_status":
        if not isinstance(value, str) or value.upper() not in OUTCOMES.values():
            raise table.fail("status", f"expected one of {', '.join(OUTCOMES.values())}")
        return value.upper()
    if isinstance(value, str):
        try:
            value = int(value, 16)
        except ValueError:
            raise table.fail("status", "expected a DIMSE status such as 0x0000") from None
    return int(value)


def _expectation(table: _Table, step_count: int, orders: dict[str, Order]) -> Expectation:
    what = table.text_value("what")
    if what not in EXPECTATIONS:
        raise table.fail("what", f"expected one of {', '.join(EXPECTATIONS)}")
    needed = EXPECTATIONS[what]
    table.check_keys(("what", *needed))
    step = order = status = count = None
    if "step" in needed:
        step = table.get("step", int)
        if not 1 <= step <= step_count:
            raise table.fail("step", f"no step {step} (the file has {step_count})")
    if "order" in needed:
        order = table.text_value("order")
        if order not in orders:
            raise table.fail("order", f"no [[order]] with accession {order!r}")
    if "status" in needed:
        status = _status(table, what)
    if "count" in needed:
        count = table.get("count", int)
    return Expectation(what, table.line(), step, order, status, count)


def parse_scenario(text: str, path: str) -> Scenario:
    """The scenario in ``text``; ``path`` names the file in errors (``path:line: ...``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: {exc}") from None
    for key in data:
        if key not in ("scenario", "patient", "order", "step", "expect"):
            raise InputError(f"{path}: unknown table or key {key!r}")
    head = _Table(path, text, data.get("scenario", {}), "scenario", 0)
    head.check_keys(("name", "description", "modality", "station_ae"))
    modality = _modality(head, "CT")
    station_ae = head.text_value("station_ae", "")
    if station_ae and not valid_ae_title(station_ae):
        raise head.fail("station_ae", f"invalid AE title {station_ae!r}")
    patients: dict[str, Patient] = {}
    for table in _tables(path, text, data, "patient"):
        patient = _patient(table)
        if patient.id in patients:
            raise table.fail("id", f"patient {patient.id!r} given twice")
        patients[patient.id] = patient
    orders: dict[str, Order] = {}
    for table in _tables(path, text, data, "order"):
        order = _order(table, patients, modality)
        if order.accession in orders:
            raise table.fail("accession", f"order {order.accession!r} given twice")
        orders[order.accession] = order
    step_tables = _tables(path, text, data, "step")
    if not step_tables:
        raise InputError(f"{path}: no [[step]]: a scenario performs at least one step")
    steps = tuple(
        _step(t, i, patients, orders, modality) for i, t in enumerate(step_tables, start=1)
    )
    expectations = tuple(
        _expectation(t, len(steps), orders) for t in _tables(path, text, data, "expect")
    )
    return Scenario(
        name=head.text_value("name", Path(path).stem),
        description=head.text_value("description", ""),
        modality=modality,
        station_ae=station_ae,
        patients=tuple(patients.values()),
        orders=tuple(orders.values()),
        steps=steps,
        expectations=expectations,
    )


# --- writing (record) -----------------------------------------------------------


def _toml(value: object) -> str:
    """A TOML value: JSON's string escapes are TOML's basic-string escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(round(value, 3)) if isinstance(value, float) else str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _table(name: str, values: dict[str, object]) -> list[str]:
    return [f"[[{name}]]", *(f"{k} = {_toml(v)}" for k, v in values.items() if v != ""), ""]


def dump_scenario(scenario: Scenario) -> str:
    """The TOML text of ``scenario`` (what ``scenario record`` writes; parses back equal)."""
    lines = ["[scenario]"]
    for key in ("name", "description", "modality", "station_ae"):
        value = getattr(scenario, key)
        if value:
            lines.append(f"{key} = {_toml(value)}")
    lines.append("")
    for p in scenario.patients:
        lines += _table("patient", dataclasses.asdict(p))
    for o in scenario.orders:
        lines += _table(
            "order",
            {
                "accession": o.accession,
                "patient": o.patient.id,
                "procedure": o.procedure,
                "scheduled": o.scheduled,
                "modality": "" if o.modality == scenario.modality else o.modality,
            },
        )
    for s in scenario.steps:
        values: dict[str, object] = (
            {"order": s.order.accession}
            if s.order
            else {
                "patient": s.patient.id,
                "modality": "" if s.modality == scenario.modality else s.modality,
            }
        )
        values |= {"start": s.start, "duration": s.duration, "images": s.images}
        values["outcome"] = s.outcome
        if s.reason is not None:
            values["reason"] = s.reason.value
        if s.commit:
            values["commit"] = True
        lines += _table("step", values)
    for e in scenario.expectations:
        values = {"what": e.what}
        for key in EXPECTATIONS[e.what]:
            value = getattr(e, key)
            values[key] = f"0x{value:04X}" if key == "status" and isinstance(value, int) else value
        lines += _table("expect", values)
    return "\n".join(lines)
