"""Validation findings computed and stored when a step or one of its instances is written.

Computed at write time, inside the transaction that stores the change, rather
than lazily: the window's table needs a count and worst severity for every
row, and 100,000 rows cannot afford a dataset parse each at load. The step row
carries that tally; the findings themselves are read only for one step (detail
pane, ``steps show``).

The rules read the step's DICOM JSON (which the handler has already made for
the store) through :class:`JsonAttributes`.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from mppsconsole.core import mpps, validation
from mppsconsole.core.attributes import Attributes, text
from mppsconsole.core.step import RECEIVED, StepSummary, scheduled_references
from mppsconsole.core.validation import Finding
from mppsconsole.net.json_attributes import JsonAttributes
from mppsconsole.store import findings, instances, steps, worklist


def _stored(conn: sqlite3.Connection, uid: str, direction: str) -> list[str]:
    return [i.sop_instance_uid for i in instances.for_step(conn, uid) if i.direction == direction]


def _step_state(
    conn: sqlite3.Connection, uid: str, direction: str, ds: Attributes, fresh: bool
) -> list[Finding]:
    """Write the findings that depend on the whole step (final state, worklist,
    references), replacing its earlier ones unless it has none (``fresh``); what was written.
    """
    orders = [worklist.find_order(conn, *ref) for ref in scheduled_references(ds)]
    state = validation.check_final_state(ds) + validation.check_worklist(ds, orders)
    if fresh:
        findings.add(conn, uid, direction, findings.STATE, state)
    else:
        findings.replace(conn, uid, direction, findings.STATE, state)
        findings.clear_references(conn, uid, direction)
    written = list(state)
    if text(ds, "PerformedProcedureStepStatus") in mpps.FINAL_STATUSES:
        references = validation.check_references(ds, _stored(conn, uid, direction))
        for sop, finding in references.items():
            findings.add(conn, uid, direction, findings.reference_scope(sop), [finding])
            written.append(finding)
    return written


def record_step(
    conn: sqlite3.Connection,
    summary: StepSummary,
    dataset: dict[str, Any],
    modified: list[str] | None,
    *,
    before: int | None,
) -> StepSummary:
    """Findings of an accepted N-CREATE (``modified`` None) or N-SET (``modified``: the
    keywords of its modification list), and of the step after it (``dataset``: its
    attributes as stored, in the DICOM JSON model).

    ``before``: how many findings the step has, when the caller knows it from a tally
    that every change of the step keeps (the SCP's received steps), else None. With
    none (a new step, or a clean one) there is nothing in the store to replace or count
    again, which spares a message six statements.

    Call before :func:`steps.save`: the summary returned carries the new tally.
    """
    uid, direction = summary.sop_instance_uid, summary.direction
    ds = JsonAttributes(dataset)
    found = validation.check_create(ds) if modified is None else validation.check_set(modified)
    findings.add(conn, uid, direction, findings.MESSAGE, found)
    fresh = before == 0
    written = _step_state(conn, uid, direction, ds, fresh)
    if fresh:
        count, worst = len(found) + len(written), validation.worst(found + written)
    else:
        count, worst = findings.tally(conn, uid, direction)
    return dataclasses.replace(summary, finding_count=count, worst_finding=worst)


def record_instance(
    conn: sqlite3.Connection,
    step_uid: str | None,
    sop_instance_uid: str,
    header: Callable[[], Attributes],
) -> StepSummary | None:
    """Findings of a received instance linked to ``step_uid``.

    ``header`` parses the instance's attributes up to its Request Attributes
    Sequence; it is called only when there is a step to compare with, so an
    image without a step costs nothing more. Returns the step's new summary
    when its tally changed, None otherwise. Images that arrive before their
    step are checked only for being referenced.
    """
    if step_uid is None:
        return None
    stored = steps.get(conn, step_uid, RECEIVED)
    if stored is None:
        return None
    ds = JsonAttributes(json.loads(stored.dataset_json))
    found = validation.check_instance(ds, header(), sop_instance_uid)
    # Counted incrementally: a full count per image would grow with the step's findings.
    count = stored.summary.finding_count + findings.replace(
        conn, step_uid, RECEIVED, findings.image_scope(sop_instance_uid), found
    )
    if stored.summary.status in mpps.FINAL_STATUSES:
        referenced = sop_instance_uid in validation.referenced_uids(ds)
        count += findings.replace(
            conn,
            step_uid,
            RECEIVED,
            findings.reference_scope(sop_instance_uid),
            [] if referenced else [validation.unreferenced(sop_instance_uid)],
        )
    worst = findings.worst(conn, step_uid, RECEIVED)
    if (count, worst) == (stored.summary.finding_count, stored.summary.worst_finding):
        return None
    findings.set_tally(conn, step_uid, RECEIVED, count, worst)
    return dataclasses.replace(stored.summary, finding_count=count, worst_finding=worst)
