"""MPPS N-CREATE / N-SET as a modality, with refusals turned into PeerError."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pynetdicom.association import Association
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from mppsconsole.core.errors import PeerError
from mppsconsole.core.settings import Node
from mppsconsole.net.association import check_response
from mppsconsole.net.status import describe, is_success, is_warning


def refusal(status: Dataset, command: str, uid: str, node: Node) -> PeerError | None:
    """The error to raise for a failure status, None for success or warning."""
    code = int(status.Status)
    if is_success(code) or is_warning(code):
        return None
    return PeerError(f"{command} {uid} refused by {node.ae_title}: {describe(status)}", status=code)


def send_create(assoc: Association, node: Node, uid: str, ds: Dataset) -> Dataset:
    """N-CREATE the step ``uid``; the status dataset, whatever it says."""
    status, _ = assoc.send_n_create(ds, ModalityPerformedProcedureStep, uid)
    check_response(status, "N-CREATE", node)
    return status


def send_set(assoc: Association, node: Node, uid: str, ds: Dataset) -> Dataset:
    """N-SET the step ``uid``; the status dataset, whatever it says."""
    status, _ = assoc.send_n_set(ds, ModalityPerformedProcedureStep, uid)
    check_response(status, "N-SET", node)
    return status
