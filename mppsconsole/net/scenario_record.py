"""Turn the stored history of a session into a scenario that replays it.

Every step of one direction (sent by our modality side, or received by our
SCP) becomes a ``[[step]]`` at its start time relative to the first one, with
its duration, image count and outcome (and CID 9300 reason); its patient and
order (by accession) become ``[[patient]]`` / ``[[order]]``; expectations say
that the replay must end each step the same way with the same number of images.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from pydicom.dataset import Dataset

from mppsconsole.core.attributes import items, text
from mppsconsole.core.codes import DEFAULT_DISCONTINUATION_REASON, discontinuation_reason
from mppsconsole.core.errors import InputError
from mppsconsole.core.mpps import COMPLETED, DISCONTINUED
from mppsconsole.core.scenario import Expectation, Order, Patient, Scenario, Step
from mppsconsole.core.step import StepSummary
from mppsconsole.net import datasets
from mppsconsole.net.status import SUCCESS
from mppsconsole.store import commitments, steps
from mppsconsole.store.db import Database

_OUTCOME = {COMPLETED: "completed", DISCONTINUED: "discontinued"}


def _reason(ds: Dataset) -> str:
    codes = items(ds, "PerformedProcedureStepDiscontinuationReasonCodeSequence")
    return text(cast(Dataset, codes[0]), "CodeValue") if codes else ""


def _seconds(later: dt.datetime | None, earlier: dt.datetime) -> float:
    return max(0.0, (later - earlier).total_seconds()) if later else 0.0


def record_session(db: Database, direction: str, name: str) -> Scenario:
    """The scenario replaying every stored step of ``direction``, oldest first."""
    with db.reading() as conn:
        # list_steps is newest first; reversed, a stable sort keeps creation order on ties.
        newest_first = [s for s in steps.list_steps(conn) if s.direction == direction and s.start]
        found = sorted(reversed(newest_first), key=lambda s: cast(dt.datetime, s.start))
        stored = [steps.get(conn, s.sop_instance_uid, direction) for s in found]
        committed = {
            s.sop_instance_uid: bool(commitments.for_step(conn, s.sop_instance_uid)) for s in found
        }
    if not found:
        raise InputError(f"no {direction} procedure step stored: nothing to record")
    base = cast(dt.datetime, found[0].start)
    patients: dict[str, Patient] = {}
    orders: dict[str, Order] = {}
    recorded: list[Step] = []
    expectations: list[Expectation] = []
    for number, (summary, kept) in enumerate(zip(found, stored, strict=True), start=1):
        assert kept is not None
        ds = datasets.from_json(kept.dataset_json)
        patient = patients.setdefault(
            summary.patient_id,
            Patient(
                summary.patient_id,
                summary.patient_name,
                text(ds, "PatientBirthDate"),
                text(ds, "PatientSex"),
            ),
        )
        order = None
        if summary.accession_number:
            order = orders.setdefault(summary.accession_number, _order(summary, ds, patient, base))
        outcome = _OUTCOME.get(summary.status, "in_progress")
        reason = _reason(ds)
        recorded.append(
            Step(
                number=number,
                patient=patient,
                order=order,
                start=_seconds(summary.start, base),
                duration=_seconds(summary.end, cast(dt.datetime, summary.start)),
                images=summary.image_count,
                outcome=outcome,
                reason=discontinuation_reason(reason or DEFAULT_DISCONTINUATION_REASON)
                if outcome == "discontinued"
                else None,
                commit=committed[summary.sop_instance_uid] and summary.image_count > 0,
                modality=summary.modality or "OT",
            )
        )
        expectations += [
            Expectation("create_status", 0, step=number, status=SUCCESS),
            Expectation("final_status", 0, step=number, status=summary.status),
            Expectation("images", 0, step=number, count=summary.image_count),
        ]
    first = found[0]
    return Scenario(
        name=name,
        description=f"{len(found)} {direction} step(s) from {base:%Y-%m-%d %H:%M}",
        modality=first.modality or "OT",
        station_ae=first.station_ae,
        patients=tuple(patients.values()),
        orders=tuple(orders.values()),
        steps=tuple(recorded),
        expectations=(
            *(Expectation("worklist", 0, order=a) for a in orders),
            *expectations,
        ),
    )


def _order(summary: StepSummary, ds: Dataset, patient: Patient, base: dt.datetime) -> Order:
    scheduled = items(ds, "ScheduledStepAttributesSequence")
    first = cast(Dataset, scheduled[0]) if scheduled else Dataset()
    return Order(
        accession=summary.accession_number,
        patient=patient,
        procedure=text(first, "RequestedProcedureDescription") or summary.description,
        scheduled=_seconds(summary.start, base),
        modality=summary.modality or "OT",
    )
