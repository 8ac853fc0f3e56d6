"""The modality's workflow (IHE RAD-5/6/7/8/10) as service functions for the CLI and GUI.

Each function talks to one peer and keeps the store in step with what the peer
acknowledged: a refused N-CREATE leaves no step behind, a refused N-SET is
kept in the step's history with the step unchanged, sent instances are
recorded against their step.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import cast

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom.association import Association
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from mppsconsole.core import mpps
from mppsconsole.core.attributes import items, text
from mppsconsole.core.codes import Code
from mppsconsole.core.dicomtime import to_datetime
from mppsconsole.core.errors import InputError, PeerUnreachable
from mppsconsole.core.events import EventHub, InstanceStored, StepChanged, Traffic
from mppsconsole.core.settings import Node
from mppsconsole.core.step import SENT, StepSummary, referenced_instances, summarize
from mppsconsole.core.worklist import WorklistItem, new_number, new_uid
from mppsconsole.net import datasets, deferred, images, step_findings
from mppsconsole.net.association import associate
from mppsconsole.net.commitment_scu import request_commitment
from mppsconsole.net.mpps_datasets import (
    PerformedSeries,
    n_create_scheduled,
    n_create_unscheduled,
    n_set_completed,
    n_set_discontinued,
)
from mppsconsole.net.mpps_scu import refusal, send_create, send_set
from mppsconsole.net.scp_context import now
from mppsconsole.net.storage_scu import Progress, SentInstance, store_instances
from mppsconsole.net.workstation import Patient, Workstation
from mppsconsole.store import commitments, instances, outbox, steps, worklist
from mppsconsole.store.db import Database


def _announce(
    events: EventHub | None,
    node: Node,
    command: str,
    uid: str,
    status: Dataset,
    summary: StepSummary | None,
) -> None:
    """Traffic line for a message we sent, and the step's new state when it changed."""
    if events is None:
        return
    comment = str(status.get("ErrorComment", "") or "")
    events.publish(
        Traffic(
            now(),
            "out",
            f"{node.ae_title}@{node.host}:{node.port}",
            command,
            f"0x{int(status.Status):04X}",
            f"{uid} {comment}".strip(),
        )
    )
    if summary is not None:
        events.publish(StepChanged(summary))


def _announce_deferred(events: EventHub | None, summary: StepSummary) -> None:
    if events is not None:
        events.publish(StepChanged(summary))


def _message(uid: str, node: Node, command: str, status: Dataset, ds: Dataset) -> steps.Message:
    return steps.Message(
        sop_instance_uid=uid,
        time=now(),
        direction=SENT,
        command=command,
        calling_ae=node.ae_title,
        peer=f"{node.host}:{node.port}",
        status=int(status.Status),
        error_comment=str(status.get("ErrorComment", "") or ""),
        dataset_json=datasets.to_json(ds),
    )


def _mpps_association(station: Workstation, node: Node) -> AbstractContextManager[Association]:
    return associate(
        station.ae_title,
        node,
        [build_context(ModalityPerformedProcedureStep)],
        required=[ModalityPerformedProcedureStep],
    )


def _items_for(db: Database, accession: str) -> list[WorklistItem]:
    with db.reading() as conn:
        found = worklist.find_by_accession(conn, accession)
    if not found:
        raise InputError(
            f"no worklist item with accession {accession!r} "
            "(add it with 'worklist add' or fetch it with 'worklist query')"
        )
    source = found[0].source
    return [item for item in found if item.source == source]


def start_step(
    db: Database,
    station: Workstation,
    node: Node,
    *,
    accession: str | None = None,
    items: Sequence[WorklistItem] | None = None,
    patient: Patient | None = None,
    modality: str | None = None,
    events: EventHub | None = None,
    defer: bool = True,
) -> StepSummary:
    """N-CREATE IN PROGRESS for worklist ``items`` (or those of ``accession``), or an
    unscheduled ``patient``; several items of one patient make the IHE group case.

    With ``defer``, an unreachable destination queues the N-CREATE (net.deferred)
    and the step is kept locally; without, it raises as any failure.
    """
    start = now().replace(microsecond=0)
    pps_id = new_number("PPS")
    if items or accession is not None:
        chosen = list(items) if items else _items_for(db, accession or "")
        ds = n_create_scheduled(chosen, station.performer, pps_id=pps_id, start=start)
    elif patient is not None and modality:
        ds = n_create_unscheduled(
            dataclasses.asdict(patient),
            modality,
            station.performer,
            study_uid=new_uid(),
            pps_id=pps_id,
            start=start,
        )
    else:
        raise InputError("give an accession number, or a patient and modality (unscheduled)")
    uid = new_uid()
    summary = summarize(uid, ds, direction=SENT, calling_ae=station.ae_title)
    try:
        with _mpps_association(station, node) as assoc:
            status = send_create(assoc, node, uid, ds)
    except PeerUnreachable as exc:
        if not defer:
            raise
        encoded = datasets.to_json(ds)
        deferred.defer(
            db,
            summary,
            encoded,
            outbox.N_CREATE,
            encoded,
            node,
            station.ae_title,
            exc,
            backoff=deferred.DEFAULT_BACKOFF,
        )
        _announce_deferred(events, summary)
        return summary
    error = refusal(status, "N-CREATE", uid, node)
    if error is not None:
        raise error
    ds_dict = datasets.to_json_dict(ds)
    with db.transaction() as conn:
        summary = step_findings.record_step(conn, summary, ds_dict, None, before=None)
        steps.save(conn, summary, datasets.dumps(ds_dict), f"{node.host}:{node.port}", now())
        steps.add_message(conn, _message(uid, node, "N-CREATE", status, ds))
    _announce(events, node, "N-CREATE", uid, status, summary)
    return summary


def _open_step(db: Database, uid: str) -> tuple[steps.StoredStep, Dataset]:
    with db.reading() as conn:
        stored = steps.get(conn, uid, SENT)
    if stored is None:
        raise InputError(f"no procedure step {uid} sent from this console")
    if stored.summary.status in mpps.FINAL_STATUSES:
        raise InputError(f"procedure step {uid} is already {stored.summary.status}")
    return stored, datasets.from_json(stored.dataset_json)


def _send_set(
    db: Database,
    station: Workstation,
    node: Node,
    stored: steps.StoredStep,
    mods: Dataset,
    events: EventHub | None,
    defer: bool,
) -> StepSummary:
    """N-SET, then record it: the new state on success, only the history on refusal.

    Deferred (the new state kept locally, the message queued) when the destination
    cannot be reached (with ``defer``) or the step's earlier messages are still
    waiting to go (always: an N-SET never overtakes its N-CREATE).
    """
    uid = stored.summary.sop_instance_uid
    merged = datasets.merge(datasets.from_json(stored.dataset_json), mods)
    summary = summarize(uid, merged, direction=SENT, calling_ae=station.ae_title)
    try:
        if deferred.waiting_for_earlier(db, uid):
            raise PeerUnreachable(f"N-SET {uid} waits for the step's deferred messages")
        with _mpps_association(station, node) as assoc:
            status = send_set(assoc, node, uid, mods)
    except PeerUnreachable as exc:
        if not defer and not deferred.waiting_for_earlier(db, uid):
            raise
        deferred.defer(
            db,
            summary,
            datasets.to_json(merged),
            outbox.N_SET,
            datasets.to_json(mods),
            node,
            station.ae_title,
            exc,
            backoff=deferred.DEFAULT_BACKOFF,
            link=[sop for _, sop in referenced_instances(merged)],
        )
        _announce_deferred(events, summary)
        return summary
    error = refusal(status, "N-SET", uid, node)
    with db.transaction() as conn:
        steps.add_message(conn, _message(uid, node, "N-SET", status, mods))
        if error is None:
            merged_json = datasets.to_json(merged)
            summary = step_findings.record_step(
                conn, summary, json.loads(merged_json), datasets.keywords(mods), before=None
            )
            steps.save(conn, summary, merged_json, stored.peer, now())
            instances.link(conn, uid, [sop for _, sop in referenced_instances(merged)])
    _announce(events, node, "N-SET", uid, status, summary if error is None else None)
    if error is not None:
        raise error
    return summary


def image_context(uid: str, ds: Dataset, station: Workstation) -> images.ImageContext:
    """What the images of a step carry, copied from the step as IHE Appendix A asks."""
    scheduled = items(ds, "ScheduledStepAttributesSequence")
    first = cast(Dataset, scheduled[0]) if scheduled else Dataset()
    return images.ImageContext(
        patient_name=text(ds, "PatientName"),
        patient_id=text(ds, "PatientID"),
        study_instance_uid=text(first, "StudyInstanceUID"),
        birth_date=text(ds, "PatientBirthDate"),
        sex=text(ds, "PatientSex"),
        accession_number=text(first, "AccessionNumber"),
        study_id=text(ds, "StudyID"),
        study_description=text(first, "RequestedProcedureDescription"),
        requested_procedure_id=text(first, "RequestedProcedureID"),
        requested_procedure_description=text(first, "RequestedProcedureDescription"),
        scheduled_step_id=text(first, "ScheduledProcedureStepID"),
        scheduled_step_description=text(first, "ScheduledProcedureStepDescription"),
        mpps_uid=uid,
        performed_step_id=text(ds, "PerformedProcedureStepID"),
        study_datetime=to_datetime(
            text(ds, "PerformedProcedureStepStartDate"), text(ds, "PerformedProcedureStepStartTime")
        ),
        station_ae=station.ae_title,
        station_name=station.station_name,
        operator=station.operator,
    )


def item_context(item: WorklistItem, station: Workstation) -> images.ImageContext:
    return images.ImageContext(
        patient_name=item.patient_name,
        patient_id=item.patient_id,
        study_instance_uid=item.study_instance_uid,
        birth_date=item.birth_date,
        sex=item.sex,
        accession_number=item.accession_number,
        study_id=item.requested_procedure_id,
        study_description=item.description,
        referring_physician=item.referring_physician,
        requested_procedure_id=item.requested_procedure_id,
        requested_procedure_description=item.description,
        scheduled_step_id=item.scheduled_step_id,
        scheduled_step_description=item.step_description or item.description,
        station_ae=station.ae_title,
        station_name=station.station_name,
        operator=station.operator,
    )


def _store_series(
    db: Database,
    station: Workstation,
    node: Node,
    context: images.ImageContext,
    modality: str,
    count: int,
    *,
    step_uid: str | None,
    transfer_syntax: str,
    progress: Progress | None,
    cancel: threading.Event | None,
    events: EventHub | None,
) -> tuple[images.SeriesPlan, list[SentInstance]]:
    plan = images.plan_series(modality, count, uid_root=station.uid_root)
    generated = images.generate_series(
        context, plan, uid_root=station.uid_root, transfer_syntax=transfer_syntax
    )
    sent = store_instances(
        station.ae_title, node, generated, count, progress=progress, cancel=cancel
    )
    with db.transaction() as conn:
        for instance in sent:
            instances.save(
                conn,
                instances.Instance(
                    sop_instance_uid=instance.sop_instance_uid,
                    sop_class_uid=instance.sop_class_uid,
                    study_instance_uid=instance.study_instance_uid,
                    series_instance_uid=instance.series_instance_uid,
                    transfer_syntax=instance.transfer_syntax,
                    path="",
                    size=0,
                    calling_ae=node.ae_title,
                    received_at=now(),
                    step_uid=step_uid,
                    direction=SENT,
                ),
            )
    if events is not None:
        for instance in sent:
            events.publish(InstanceStored(instance.sop_instance_uid, step_uid, SENT))
        events.publish(
            Traffic(
                now(),
                "out",
                f"{node.ae_title}@{node.host}:{node.port}",
                "C-STORE",
                "0x0000",
                f"{len(sent)} instance(s)",
            )
        )
    return plan, sent


def _performed_series(
    plan: images.SeriesPlan, sent: Sequence[SentInstance], station: Workstation, node: Node
) -> PerformedSeries:
    return PerformedSeries(
        series_instance_uid=plan.series_instance_uid,
        protocol_name=plan.protocol_name,
        description=plan.series_description,
        operator=station.operator,
        retrieve_ae=node.ae_title,
        images=tuple((i.sop_class_uid, i.sop_instance_uid) for i in sent),
    )


def _sent_series(db: Database, uid: str, station: Workstation) -> list[PerformedSeries]:
    """Series already sent for a step (grouped from the store), for the final N-SET."""
    with db.reading() as conn:
        sent = [i for i in instances.for_step(conn, uid) if i.direction == SENT]
    by_series: dict[str, list[instances.Instance]] = defaultdict(list)
    for instance in sent:
        by_series[instance.series_instance_uid].append(instance)
    return [
        PerformedSeries(
            series_uid,
            "MPPS Console test images",
            "",
            station.operator,
            group[0].calling_ae,
            tuple((i.sop_class_uid, i.sop_instance_uid) for i in group),
        )
        for series_uid, group in by_series.items()
    ]


def complete_step(
    db: Database,
    station: Workstation,
    node: Node,
    uid: str,
    *,
    image_count: int = 1,
    storage_node: Node | None = None,
    transfer_syntax: str = ExplicitVRLittleEndian,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    events: EventHub | None = None,
    defer: bool = True,
) -> StepSummary:
    """Store ``image_count`` generated images, then N-SET COMPLETED listing exactly those."""
    if image_count < 0:
        raise InputError("the number of images cannot be negative")
    stored, ds = _open_step(db, uid)
    series = _sent_series(db, uid, station)
    if image_count or not series:
        modality = text(ds, "Modality")
        plan, sent = (
            _store_series(
                db,
                station,
                storage_node or node,
                image_context(uid, ds, station),
                modality,
                image_count,
                step_uid=uid,
                transfer_syntax=transfer_syntax,
                progress=progress,
                cancel=cancel,
                events=events,
            )
            if image_count
            else (images.plan_series(modality, 1, uid_root=station.uid_root), [])
        )
        series = [s for s in series if s.series_instance_uid != plan.series_instance_uid]
        series.append(_performed_series(plan, sent, station, storage_node or node))
    mods = n_set_completed(now(), series)
    return _send_set(db, station, node, stored, mods, events, defer)


def discontinue_step(
    db: Database,
    station: Workstation,
    node: Node,
    uid: str,
    reason: Code,
    events: EventHub | None = None,
    defer: bool = True,
) -> StepSummary:
    """N-SET DISCONTINUED with its reason, listing what was already sent for the step."""
    stored, _ = _open_step(db, uid)
    mods = n_set_discontinued(now(), reason, _sent_series(db, uid, station))
    return _send_set(db, station, node, stored, mods, events, defer)


def send_images(
    db: Database,
    station: Workstation,
    node: Node,
    *,
    count: int,
    modality: str | None = None,
    accession: str | None = None,
    mpps_uid: str | None = None,
    transfer_syntax: str = ExplicitVRLittleEndian,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    events: EventHub | None = None,
) -> list[SentInstance]:
    """A new series of ``count`` images for a worklist item or a sent step."""
    if mpps_uid is not None:
        with db.reading() as conn:
            stored = steps.get(conn, mpps_uid)
        if stored is None:
            raise InputError(f"no procedure step {mpps_uid}")
        ds = datasets.from_json(stored.dataset_json)
        context = image_context(mpps_uid, ds, station)
        modality = modality or text(ds, "Modality")
    elif accession is not None:
        item = _items_for(db, accession)[0]
        context = item_context(item, station)
        modality = modality or item.modality
    else:
        raise InputError("give --accession or --mpps")
    _, sent = _store_series(
        db,
        station,
        node,
        context,
        modality,
        count,
        step_uid=mpps_uid,
        transfer_syntax=transfer_syntax,
        progress=progress,
        cancel=cancel,
        events=events,
    )
    return sent


def commit_step(
    db: Database, station: Workstation, node: Node, uid: str, *, wait: float
) -> commitments.Commitment:
    """Storage commitment for every instance sent or referenced for the step."""
    with db.reading() as conn:
        stored = steps.get(conn, uid)
        linked = instances.for_step(conn, uid)
    if stored is None:
        raise InputError(f"no procedure step {uid}")
    references: dict[str, str] = {i.sop_instance_uid: i.sop_class_uid for i in linked}
    ds = datasets.from_json(stored.dataset_json)
    for series in items(ds, "PerformedSeriesSequence"):
        for ref in items(series, "ReferencedImageSequence"):
            references.setdefault(
                text(ref, "ReferencedSOPInstanceUID"), text(ref, "ReferencedSOPClassUID")
            )
    if not references:
        raise InputError(f"procedure step {uid} has no instances to commit")
    pairs = [(cls, sop) for sop, cls in references.items()]
    return request_commitment(db, station.ae_title, node, pairs, step_uid=uid, wait=wait)
