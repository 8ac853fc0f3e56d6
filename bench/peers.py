"""Baseline servers, each in its own process: ``python -m bench.peers KIND [ARGS]``.

They stand for "the library we stand on, used plainly": pynetdicom with its
defaults, plus TCP_NODELAY (an EVT_CONN_OPEN handler), and the simplest handler
that does the job. Each prints ``listening on HOST:PORT`` and serves until
SIGTERM or SIGINT.

* ``mpps``: MPPS N-CREATE / N-SET into a dict of datasets, answering what
  MPPS Console's SCP answers (an empty attribute list to N-CREATE, none to
  N-SET), so that both put the same bytes on the wire.
* ``store DIR``: C-STORE writing the received encoded dataset as a Part 10 file
  without decoding it.
* ``mwl-naive FILE``: Modality Worklist C-FIND over the items of a JSON file,
  building a Dataset per matching item and yielding it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from pydicom.dataset import Dataset
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.dimse_primitives import C_STORE, N_CREATE, N_SET
from pynetdicom.events import Event
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    Verification,
)
from pynetdicom.transport import ThreadedAssociationServer

from bench.common import LOOPBACK
from bench.dicom import worklist_dataset
from mppsconsole.net.sockets import NODELAY_HANDLER

AET = "ANY-SCP"


class MppsStore:
    def __init__(self) -> None:
        self.steps: dict[str, Dataset] = {}
        self.lock = threading.Lock()

    def on_create(self, event: Event) -> tuple[int, Dataset | None]:
        uid = str(cast(N_CREATE, event.request).AffectedSOPInstanceUID)
        ds = event.attribute_list
        with self.lock:
            if uid in self.steps:
                return 0x0111, None
            self.steps[uid] = ds
        return 0x0000, Dataset()

    def on_set(self, event: Event) -> tuple[int, Dataset | None]:
        uid = str(cast(N_SET, event.request).RequestedSOPInstanceUID)
        mods = event.modification_list
        with self.lock:
            stored = self.steps.get(uid)
            if stored is None:
                return 0x0112, None
            if stored.PerformedProcedureStepStatus != "IN PROGRESS":
                return 0x0110, None
            stored.update(mods)
        return 0x0000, None  # the N-SET-RSP Attribute List is optional (PS3.7 10.1.3)


def _store_handler(folder: Path) -> Any:
    def on_store(event: Event) -> int:
        path = folder / f"{cast(C_STORE, event.request).AffectedSOPInstanceUID}.dcm"
        with open(path, "wb") as f:
            f.write(event.encoded_dataset())
        return 0x0000

    return on_store


class NaiveWorklist:
    """Match in Python, build a Dataset per match, yield it (what a first handler does)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    @staticmethod
    def _date_matches(pattern: str, moment: dt.datetime) -> bool:
        if not pattern:
            return True
        day = moment.strftime("%Y%m%d")
        if "-" in pattern:
            low, _, high = pattern.partition("-")
            return (not low or low <= day) and (not high or day <= high)
        return day == pattern

    def on_find(self, event: Event) -> Iterator[tuple[int, Dataset | None]]:
        query = event.identifier
        step = (
            query.ScheduledProcedureStepSequence[0]
            if query.get("ScheduledProcedureStepSequence")
            else Dataset()
        )
        patient_id = str(query.get("PatientID", "") or "")
        modality = str(step.get("Modality", "") or "")
        date = str(step.get("ScheduledProcedureStepStartDate", "") or "")
        for item in self.items:
            if patient_id and item["patient_id"] != patient_id:
                continue
            if modality and item["modality"] != modality:
                continue
            if not self._date_matches(date, dt.datetime.fromisoformat(item["scheduled_start"])):
                continue
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, worklist_dataset(item)
        yield 0x0000, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers")
    parser.add_argument("kind", choices=("mpps", "store", "mwl-naive"))
    parser.add_argument("path", nargs="?", help="store: output dir; mwl-naive: items JSON")
    parser.add_argument(
        "--max-pdu", type=int, help="the maximum PDU length announced (pynetdicom's default)"
    )
    args = parser.parse_args(argv)

    ae = AE(ae_title=AET)
    ae.maximum_associations = 64
    if args.max_pdu is not None:
        ae.maximum_pdu_size = args.max_pdu
    handlers: list[Any] = [NODELAY_HANDLER]
    if args.kind == "mpps":
        mpps = MppsStore()
        ae.add_supported_context(ModalityPerformedProcedureStep)
        handlers += [(evt.EVT_N_CREATE, mpps.on_create), (evt.EVT_N_SET, mpps.on_set)]
    elif args.kind == "store":
        folder = Path(args.path)
        folder.mkdir(parents=True, exist_ok=True)
        for cx in AllStoragePresentationContexts:
            ae.add_supported_context(cast(str, cx.abstract_syntax))
        handlers.append((evt.EVT_C_STORE, _store_handler(folder)))
    else:
        items = json.loads(Path(args.path).read_text(encoding="utf-8"))
        ae.add_supported_context(ModalityWorklistInformationFind)
        handlers.append((evt.EVT_C_FIND, NaiveWorklist(items).on_find))
    ae.add_supported_context(Verification)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = cast(
        ThreadedAssociationServer,
        ae.start_server((LOOPBACK, 0), block=False, evt_handlers=handlers),
    )
    host, port = server.server_address[:2]
    print(f"{args.kind} listening on {host}:{port}", flush=True)
    while not stop.wait(0.2):
        pass
    server.shutdown()
    for assoc in server.active_associations:
        assoc.abort()
    return 0


if __name__ == "__main__":
    sys.exit(main())
