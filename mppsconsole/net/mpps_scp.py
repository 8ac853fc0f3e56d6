"""MPPS SCP: N-CREATE, N-SET and N-GET of Modality Performed Procedure Steps.

Each handler validates (core rules), persists in one transaction (step,
history message, referenced worklist items, linked instances), and only then
answers; a refused message is kept in the history too, with its status.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from typing import cast

from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pynetdicom.dimse_primitives import N_CREATE, N_GET, N_SET
from pynetdicom.events import Event
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from mppsconsole.core import mpps
from mppsconsole.core.errors import Refusal, ServiceError
from mppsconsole.core.events import StepChanged, Subject
from mppsconsole.core.profile import Profile
from mppsconsole.core.step import (
    RECEIVED,
    StepSummary,
    referenced_instances,
    scheduled_references,
    summarize,
)
from mppsconsole.core.worklist import new_uid
from mppsconsole.net import datasets, faults, leniency, step_findings
from mppsconsole.net.incoming import UndecodableDataset
from mppsconsole.net.json_attributes import JsonAttributes, JsonDict, keywords, merged
from mppsconsole.net.request_json import request_json
from mppsconsole.net.scp_context import Peer, ScpContext, now
from mppsconsole.net.status import SUCCESS, refusal_status, status_dataset
from mppsconsole.store import instances, steps, worklist

log = logging.getLogger(__name__)

StatusReply = tuple[Dataset, Dataset | None]


#: Steps whose attributes stay decoded in memory, so an N-SET does not re-read them.
RECENT_STEPS = 2000


class _RecentSteps:
    """The latest attributes of recently created or updated steps (read-only DICOM JSON
    dicts, so an N-SET neither reads nor parses the stored step).

    Only this SCP changes received steps, so an entry is never stale; it is
    written inside the transaction that stores the same state.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: OrderedDict[str, JsonDict] = OrderedDict()

    def get(self, uid: str) -> JsonDict | None:
        with self._lock:
            return self._steps.get(uid)

    def put(self, uid: str, ds_dict: JsonDict) -> None:
        with self._lock:
            self._steps[uid] = ds_dict
            self._steps.move_to_end(uid)
            while len(self._steps) > RECENT_STEPS:
                self._steps.popitem(last=False)

    def discard(self, uid: str) -> None:
        with self._lock:
            self._steps.pop(uid, None)


def _apply_set(
    stored: steps.StoredStep, recent: JsonDict | None, mods: JsonDict, profile: Profile
) -> tuple[JsonDict, list[str]]:
    """The step's attributes after ``mods``, checked, with what the profile tolerated."""
    names = keywords(mods)
    mpps.check_set(stored.summary.status, JsonAttributes(mods), names)
    current = recent if recent is not None else json.loads(stored.dataset_json)
    tolerated = leniency.check_set(profile, JsonAttributes(current), names)
    after = merged(current, mods)
    mpps.check_final_state(JsonAttributes(after))
    return after, tolerated


def step_subject(uid: str, summary: StepSummary | None) -> Subject:
    """The audit trail's "what" of an MPPS message: the step and, once known, its patient."""
    if summary is None:
        return Subject(ModalityPerformedProcedureStep, uid)
    return Subject(
        ModalityPerformedProcedureStep,
        uid,
        summary.patient_id,
        summary.patient_name,
        summary.accession_number,
    )


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
        ds_json: str = "",
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
            dataset_json=ds_json,
        )

    def _refuse(
        self, uid: str, peer: Peer, command: str, error: ServiceError, ds_json: str = ""
    ) -> Dataset:
        return self._keep_refused(uid, peer, command, refusal_status(error), ds_json)

    def _keep_refused(
        self, uid: str, peer: Peer, command: str, status: Dataset, ds_json: str = ""
    ) -> Dataset:
        """Keep a refused message in the history with its status, and announce it."""
        log.warning(
            "%s %s from %s refused: 0x%04X %s",
            command,
            uid,
            peer,
            status.Status,
            status.get("ErrorComment", ""),
        )
        with self.ctx.db.transaction() as conn:
            steps.add_message(conn, self._record(uid, peer, command, status, ds_json))
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
        self.ctx.traffic(
            peer,
            command,
            f"0x{int(status.Status):04X}",
            f"{uid} {comment}".strip(),
            step_subject(uid, summary),
        )
        if summary is not None:
            self.ctx.events.publish(StepChanged(summary))

    def on_create(self, event: Event) -> StatusReply:
        peer = Peer.of(event)
        request = cast(N_CREATE, event.request)
        uid = str(request.AffectedSOPInstanceUID or new_uid())
        assigned = not request.AffectedSOPInstanceUID
        injected = faults.inject(self.ctx, "mpps-create", event)
        if injected.status is not None:
            return self._keep_refused(uid, peer, "N-CREATE", injected.status), None
        try:
            ds_dict = request_json(event, "attribute_list")
        except UndecodableDataset as undecodable:  # the peer's fault, not ours
            return self._refuse(uid, peer, "N-CREATE", undecodable), None
        try:
            ds_dict, tolerated = leniency.check_create(injected.profile, ds_dict, peer)
        except ServiceError as refused:
            return self._refuse(uid, peer, "N-CREATE", refused, datasets.dumps(ds_dict)), None
        ds_json = datasets.dumps(ds_dict)
        ds = JsonAttributes(ds_dict)
        ok = status_dataset(SUCCESS)
        summary: StepSummary | None = None
        with self.ctx.db.transaction() as conn:
            if steps.exists(conn, uid):
                status = refusal_status(
                    ServiceError(Refusal.DUPLICATE_INSTANCE, f"Step {uid} already exists")
                )
                steps.add_message(conn, self._record(uid, peer, "N-CREATE", status, ds_json))
            else:
                summary = summarize(uid, ds, direction=RECEIVED, calling_ae=peer.ae_title)
                summary = step_findings.record_step(conn, summary, ds_dict, None, before=0)
                steps.save(conn, summary, ds_json, peer.address, now())
                steps.add_message(conn, self._record(uid, peer, "N-CREATE", ok, ds_json))
                self._recent.put(uid, ds_dict)
                worklist.set_status_for_references(
                    conn, scheduled_references(ds), mpps.worklist_status_for(mpps.IN_PROGRESS)
                )
        if summary is None:
            log.warning("N-CREATE %s from %s refused: duplicate", uid, peer)
            self._announce(peer, "N-CREATE", uid, status)
            return status, None
        log.info("N-CREATE %s from %s: IN PROGRESS", uid, peer)
        leniency.report(self.ctx, peer, "N-CREATE", uid, tolerated)
        self._announce(peer, "N-CREATE", uid, ok, summary)
        reply = Dataset()
        if assigned:
            reply.AffectedSOPInstanceUID = uid
        return ok, reply

    def on_set(self, event: Event) -> StatusReply:
        peer = Peer.of(event)
        uid = str(cast(N_SET, event.request).RequestedSOPInstanceUID)
        injected = faults.inject(self.ctx, "mpps-set", event)
        if injected.status is not None:
            return self._keep_refused(uid, peer, "N-SET", injected.status), None
        try:
            mods = request_json(event, "modification_list")
        except UndecodableDataset as undecodable:
            return self._refuse(uid, peer, "N-SET", undecodable), None
        try:
            status, refused, summary = self._set(uid, peer, mods, injected.profile)
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
        self, uid: str, peer: Peer, mods: JsonDict, profile: Profile
    ) -> tuple[Dataset, ServiceError | None, StepSummary | None]:
        """One N-SET in one transaction: (status, refusal or None, new summary or None)."""
        refused: ServiceError | None = None
        summary: StepSummary | None = None
        mods_json = datasets.dumps(mods)
        with self.ctx.db.transaction() as conn:
            stored = steps.get(conn, uid, RECEIVED)
            try:
                if stored is None:
                    raise ServiceError(Refusal.NO_SUCH_INSTANCE, f"No step {uid}")
                after, tolerated = _apply_set(stored, self._recent.get(uid), mods, profile)
            except ServiceError as error:
                refused = error
                status = refusal_status(error)
                steps.add_message(conn, self._record(uid, peer, "N-SET", status, mods_json))
            else:
                status = status_dataset(SUCCESS)
                leniency.report(self.ctx, peer, "N-SET", uid, tolerated)
                summary = self._store_set(conn, uid, peer, stored, after, (mods, mods_json))
        return status, refused, summary

    def _store_set(
        self,
        conn: sqlite3.Connection,
        uid: str,
        peer: Peer,
        stored: steps.StoredStep,
        after: JsonDict,
        request: tuple[JsonDict, str],
    ) -> StepSummary:
        """Persist an accepted N-SET: history, new state, worklist items, linked instances."""
        mods, mods_json = request
        ok = status_dataset(SUCCESS)
        steps.add_message(conn, self._record(uid, peer, "N-SET", ok, mods_json))
        ds = JsonAttributes(after)
        summary = summarize(uid, ds, direction=stored.summary.direction, calling_ae=peer.ae_title)
        summary = step_findings.record_step(
            conn, summary, after, keywords(mods), before=stored.summary.finding_count
        )
        steps.save(conn, summary, datasets.dumps(after), peer.address, now())
        if summary.status != stored.summary.status:
            worklist.set_status_for_references(
                conn, scheduled_references(ds), mpps.worklist_status_for(summary.status)
            )
        instances.link(conn, uid, [sop for _, sop in referenced_instances(ds)])
        if summary.status in mpps.FINAL_STATUSES:
            self._recent.discard(uid)  # never updated again
        else:
            self._recent.put(uid, after)
        return summary

    def on_get(self, event: Event) -> StatusReply:
        peer = Peer.of(event)
        request = cast(N_GET, event.request)
        uid = str(request.RequestedSOPInstanceUID)
        forced = faults.inject(self.ctx, "mpps-get", event).status
        if forced is not None:
            return self._keep_refused(uid, peer, "N-GET", forced), None
        with self.ctx.db.reading() as conn:
            stored = steps.get(conn, uid, RECEIVED)
        if stored is None:
            unknown = ServiceError(Refusal.NO_SUCH_INSTANCE, f"No step {uid}")
            return self._refuse(uid, peer, "N-GET", unknown), None
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
            steps.add_message(conn, self._record(uid, peer, "N-GET", ok))
        self._announce(peer, "N-GET", uid, ok)
        return ok, reply
