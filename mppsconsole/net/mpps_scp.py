"""MPPS SCP: N-CREATE, N-SET and N-GET of Modality Performed Procedure Steps.

Each handler validates (core rules), persists in one transaction (step,
history message, referenced worklist items, linked instances), and only then
answers; a refused message is kept in the history too, with its status.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from typing import cast

from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pynetdicom.dimse_primitives import N_CREATE, N_GET, N_SET
from pynetdicom.events import Event

from mppsconsole.core import mpps
from mppsconsole.core.errors import Refusal, ServiceError
from mppsconsole.core.events import StepChanged
from mppsconsole.core.step import (
    RECEIVED,
    StepSummary,
    referenced_instances,
    scheduled_references,
    summarize,
)
from mppsconsole.core.worklist import new_uid
from mppsconsole.net import datasets
from mppsconsole.net.incoming import UndecodableDataset, request_dataset
from mppsconsole.net.scp_context import Peer, ScpContext, now
from mppsconsole.net.status import SUCCESS, refusal_status, status_dataset
from mppsconsole.store import instances, steps, worklist

log = logging.getLogger(__name__)

StatusReply = tuple[Dataset, Dataset | None]


#: Steps whose attributes stay decoded in memory, so an N-SET does not re-read them.
RECENT_STEPS = 2000


class _RecentSteps:
    """The latest attributes of recently created or updated steps (read-only datasets).

    Only this SCP changes received steps, so an entry is never stale; it is
    written inside the transaction that stores the same state.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: OrderedDict[str, Dataset] = OrderedDict()

    def get(self, uid: str) -> Dataset | None:
        with self._lock:
            return self._steps.get(uid)

    def put(self, uid: str, ds: Dataset) -> None:
        with self._lock:
            self._steps[uid] = ds
            self._steps.move_to_end(uid)
            while len(self._steps) > RECENT_STEPS:
                self._steps.popitem(last=False)

    def discard(self, uid: str) -> None:
        with self._lock:
            self._steps.pop(uid, None)


def _apply_set(
    stored: steps.StoredStep, current: Dataset | None, mods: Dataset
) -> tuple[Dataset, str]:
    """The step's attributes after ``mods``, checked, with their JSON form."""
    mpps.check_set(stored.summary.status, mods, datasets.keywords(mods))
    try:
        if current is None:
            current = datasets.from_json(stored.dataset_json)
        merged = datasets.merge(current, mods)
        mpps.check_final_state(merged)
        return merged, datasets.to_json(merged)
    except (ValueError, TypeError) as exc:
        raise ServiceError(Refusal.INVALID_ATTRIBUTE_VALUE, f"Invalid value: {exc}") from None


class MppsScp:
    """The three MPPS handlers, bound to a store."""

    def __init__(self, context: ScpContext) -> None:
        self.ctx = context
        self._recent = _RecentSteps()

    def _record(
        self,
        uid: str,
        peer: Peer,
        command: str,
        status: Dataset,
        ds: Dataset | None,
        ds_json: str | None = None,
    ) -> steps.Message:
        return steps.Message(
            sop_instance_uid=uid,
            time=now(),
            direction=RECEIVED,
            command=command,
            calling_ae=peer.ae_title,
            peer=peer.address,
            status=int(status.Status),
            error_comment=str(status.get("ErrorComment", "")),
            dataset_json=ds_json or (datasets.to_json(ds) if ds is not None else ""),
        )

    def _refuse(
        self, uid: str, peer: Peer, command: str, error: ServiceError, ds: Dataset | None
    ) -> Dataset:
        status = refusal_status(error)
        log.warning(
            "%s %s from %s refused: 0x%04X %s", command, uid, peer, status.Status, error.comment
        )
        with self.ctx.db.transaction() as conn:
            steps.add_message(conn, self._record(uid, peer, command, status, ds))
        self._announce(peer, command, uid, status)
        return status

    def _announce(
        self,
        peer: Peer,
        command: str,
        uid: str,
        status: Dataset,
        summary: StepSummary | None = None,
    ) -> None:
        """Tell subscribers (traffic log, window) once the message is stored."""
        comment = str(status.get("ErrorComment", "") or "")
        self.ctx.traffic(peer, command, f"0x{int(status.Status):04X}", f"{uid} {comment}".strip())
        if summary is not None:
            self.ctx.events.publish(StepChanged(summary))

    def on_create(self, event: Event) -> StatusReply:
        peer = Peer.of(event)
        request = cast(N_CREATE, event.request)
        uid = str(request.AffectedSOPInstanceUID or new_uid())
        assigned = not request.AffectedSOPInstanceUID
        try:
            ds = request_dataset(event, "attribute_list")
        except UndecodableDataset as undecodable:  # the peer's fault, not ours
            return self._refuse(uid, peer, "N-CREATE", undecodable, None), None
        try:
            mpps.check_create(ds)
            ds_json = datasets.to_json(ds)
        except ServiceError as refused:
            return self._refuse(uid, peer, "N-CREATE", refused, ds), None
        except (ValueError, TypeError) as exc:
            invalid = ServiceError(Refusal.INVALID_ATTRIBUTE_VALUE, f"Invalid value: {exc}")
            return self._refuse(uid, peer, "N-CREATE", invalid, ds), None
        ok = status_dataset(SUCCESS)
        summary: StepSummary | None = None
        with self.ctx.db.transaction() as conn:
            if steps.exists(conn, uid):
                status = refusal_status(
                    ServiceError(Refusal.DUPLICATE_INSTANCE, f"Step {uid} already exists")
                )
                steps.add_message(conn, self._record(uid, peer, "N-CREATE", status, ds, ds_json))
            else:
                summary = summarize(uid, ds, direction=RECEIVED, calling_ae=peer.ae_title)
                steps.save(conn, summary, ds_json, peer.address, now())
                steps.add_message(conn, self._record(uid, peer, "N-CREATE", ok, ds, ds_json))
                self._recent.put(uid, ds)
                worklist.set_status_for_references(
                    conn, scheduled_references(ds), mpps.worklist_status_for(mpps.IN_PROGRESS)
                )
        if summary is None:
            log.warning("N-CREATE %s from %s refused: duplicate", uid, peer)
            self._announce(peer, "N-CREATE", uid, status)
            return status, None
        log.info("N-CREATE %s from %s: IN PROGRESS", uid, peer)
        self._announce(peer, "N-CREATE", uid, ok, summary)
        reply = Dataset()
        if assigned:
            reply.AffectedSOPInstanceUID = uid
        return ok, reply

    def on_set(self, event: Event) -> StatusReply:
        peer = Peer.of(event)
        uid = str(cast(N_SET, event.request).RequestedSOPInstanceUID)
        try:
            mods = request_dataset(event, "modification_list")
        except UndecodableDataset as undecodable:
            return self._refuse(uid, peer, "N-SET", undecodable, None), None
        try:
            status, refused, summary = self._set(uid, peer, mods)
        except BaseException:
            self._recent.discard(uid)  # the commit failed: the store is the truth
            raise
        if refused is not None:
            log.warning(
                "N-SET %s from %s refused: 0x%04X %s", uid, peer, status.Status, refused.comment
            )
            self._announce(peer, "N-SET", uid, status)
            return status, None
        assert summary is not None
        log.info("N-SET %s from %s: %s", uid, peer, summary.status)
        self._announce(peer, "N-SET", uid, status, summary)
        return status, None  # the Attribute List of an N-SET-RSP is optional (PS3.7 10.1.3)

    def _set(
        self, uid: str, peer: Peer, mods: Dataset
    ) -> tuple[Dataset, ServiceError | None, StepSummary | None]:
        """One N-SET in one transaction: (status, refusal or None, new summary or None)."""
        refused: ServiceError | None = None
        summary: StepSummary | None = None
        with self.ctx.db.transaction() as conn:
            stored = steps.get(conn, uid, RECEIVED)
            try:
                if stored is None:
                    raise ServiceError(Refusal.NO_SUCH_INSTANCE, f"No step {uid}")
                merged, merged_json = _apply_set(stored, self._recent.get(uid), mods)
            except ServiceError as error:
                refused = error
                status = refusal_status(error)
                steps.add_message(conn, self._record(uid, peer, "N-SET", status, mods))
            else:
                status = status_dataset(SUCCESS)
                summary = self._store_set(conn, uid, peer, stored, merged, merged_json, mods)
        return status, refused, summary

    def _store_set(
        self,
        conn: sqlite3.Connection,
        uid: str,
        peer: Peer,
        stored: steps.StoredStep,
        merged: Dataset,
        merged_json: str,
        mods: Dataset,
    ) -> StepSummary:
        """Persist an accepted N-SET: history, new state, worklist items, linked instances."""
        steps.add_message(conn, self._record(uid, peer, "N-SET", status_dataset(SUCCESS), mods))
        summary = summarize(
            uid, merged, direction=stored.summary.direction, calling_ae=peer.ae_title
        )
        steps.save(conn, summary, merged_json, peer.address, now())
        if summary.status != stored.summary.status:
            worklist.set_status_for_references(
                conn, scheduled_references(merged), mpps.worklist_status_for(summary.status)
            )
        instances.link(conn, uid, [sop for _, sop in referenced_instances(merged)])
        if summary.status in mpps.FINAL_STATUSES:
            self._recent.discard(uid)  # never updated again
        else:
            self._recent.put(uid, merged)
        return summary

    def on_get(self, event: Event) -> StatusReply:
        peer = Peer.of(event)
        request = cast(N_GET, event.request)
        uid = str(request.RequestedSOPInstanceUID)
        with self.ctx.db.reading() as conn:
            stored = steps.get(conn, uid, RECEIVED)
        if stored is None:
            unknown = ServiceError(Refusal.NO_SUCH_INSTANCE, f"No step {uid}")
            return self._refuse(uid, peer, "N-GET", unknown, None), None
        full = datasets.from_json(stored.dataset_json)
        wanted = request.AttributeIdentifierList or []
        if not isinstance(wanted, list):
            wanted = [wanted]
        if wanted:
            reply = Dataset()
            for tag in wanted:
                tag = Tag(tag)
                if tag in full:
                    reply[tag] = full[tag]
        else:
            reply = full
        ok = status_dataset(SUCCESS)
        with self.ctx.db.transaction() as conn:
            steps.add_message(conn, self._record(uid, peer, "N-GET", ok, None))
        self._announce(peer, "N-GET", uid, ok)
        return ok, reply
