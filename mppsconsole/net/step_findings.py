"""Validation findings computed and stored when a step or one of its instances is written.

Computed at write time, inside the transaction that stores the change, rather
than lazily: the window's table needs a count and worst severity for every
row, and 100,000 rows cannot afford a dataset parse each at load. The step row
carries that tally; the findings themselves are read only for one step (detail
pane, ``steps show``). The cost lands on the handler that already holds the
decoded dataset: a few dictionary look-ups and two or three indexed queries.
"""

from __future__ import annotations

import dataclasses
import sqlite3

from pydicom.dataset import Dataset

from mppsconsole.core import mpps, validation
from mppsconsole.core.attributes import Attributes
from mppsconsole.core.step import RECEIVED, StepSummary
from mppsconsole.net import datasets
from mppsconsole.store import findings, instances, steps, worklist


def _state(conn: sqlite3.Connection, uid: str, direction: str, ds: Attributes) -> None:
    stored = [i.sop_instance_uid for i in instances.for_step(conn, uid) if i.direction == direction]
    orders = [worklist.find_order(conn, *ref) for ref in validation.order_references(ds)]
    findings.replace(
        conn,
        uid,
        direction,
        findings.STATE,
        validation.check_final_state(ds, stored) + validation.check_worklist(ds, orders),
    )


def record_step(
    conn: sqlite3.Connection, summary: StepSummary, ds: Dataset, command: str, message: Dataset
) -> StepSummary:
    """Findings of an accepted N-CREATE / N-SET (``message``) and of the step after it (``ds``).

    Call before :func:`steps.save`: the summary returned carries the new tally.
    """
    uid, direction = summary.sop_instance_uid, summary.direction
    if command == "N-CREATE":
        found = validation.check_create(message)
    else:
        found = validation.check_set(datasets.keywords(message))
    findings.add(conn, uid, direction, findings.MESSAGE, found)
    _state(conn, uid, direction, ds)
    count, worst = findings.tally(conn, uid, direction)
    return dataclasses.replace(summary, finding_count=count, worst_finding=worst)


def record_instance(
    conn: sqlite3.Connection, step_uid: str | None, sop_instance_uid: str, ids: Attributes
) -> StepSummary | None:
    """Findings of a received instance (``ids``: its patient and study attributes).

    Returns the step's new summary when its findings changed, None otherwise.
    Images that arrive before their step are checked only for being referenced.
    """
    if step_uid is None:
        return None
    stored = steps.get(conn, step_uid, RECEIVED)
    if stored is None:
        return None
    ds = datasets.from_json(stored.dataset_json)
    findings.replace(
        conn,
        step_uid,
        RECEIVED,
        findings.instance_scope(sop_instance_uid),
        validation.check_instance(ds, ids, sop_instance_uid),
    )
    if stored.summary.status in mpps.FINAL_STATUSES:  # references matter only from then on
        _state(conn, step_uid, RECEIVED, ds)
    count, worst = findings.tally(conn, step_uid, RECEIVED)
    if (count, worst) == (stored.summary.finding_count, stored.summary.worst_finding):
        return None
    findings.set_tally(conn, step_uid, RECEIVED, count, worst)
    return dataclasses.replace(stored.summary, finding_count=count, worst_finding=worst)
