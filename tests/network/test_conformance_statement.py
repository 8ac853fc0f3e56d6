"""docs/conformance-statement.md stays true: its tables against real negotiations.

The tables marked ``<!-- checked: ... -->`` are read from the document; the
running SCP must accept every SOP class with every transfer syntax they list,
and nothing else (every SOP class pydicom knows is proposed, plus transfer
syntaxes the tables leave out). The SCU table is checked against what the
console's own commands propose to a recording peer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from pydicom._uid_dict import UID_dictionary
from pydicom.uid import UID, CTImageStorage, generate_uid
from pynetdicom import AE, build_context, evt
from pynetdicom.events import Event
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    StorageCommitmentPushModel,
    Verification,
)
from pynetdicom.transport import ThreadedAssociationServer

from mppsconsole.core.errors import PeerError
from mppsconsole.core.settings import Node
from mppsconsole.net.commitment_scu import request_commitment
from mppsconsole.store.db import Database
from tests.conftest import LOOPBACK, RunningServer
from tests.network.conftest import MODALITY_AE, TIMEOUT
from tests.network.peers import Modality

DOCUMENT = Path(__file__).parents[2] / "docs" / "conformance-statement.md"
_UID_CELL = re.compile(r"`(1\.2\.[0-9.]+)`")
#: pynetdicom allows 128 presentation contexts per association (odd IDs 1-255).
CONTEXTS_PER_ASSOCIATION = 120
#: Transfer syntax names of the SCU table, as the document abbreviates them.
ABBREVIATIONS = {
    "Implicit VR LE": "1.2.840.10008.1.2",
    "Explicit VR LE": "1.2.840.10008.1.2.1",
    "Deflated Explicit VR LE": "1.2.840.10008.1.2.1.99",
    "Explicit VR BE": "1.2.840.10008.1.2.2",
}
#: Transfer syntaxes pydicom knows that the tables must leave out (the SCP refuses them).
UNLISTED_SYNTAXES = (
    "1.2.840.10008.1.2.4.92",  # JPEG 2000 Part 2 Multi-component (Lossless Only)
    "1.2.840.10008.1.2.4.201",  # High-Throughput JPEG 2000 (Lossless Only)
    "1.2.840.10008.1.2.4.100",  # MPEG2 Main Profile / Main Level
    "1.2.840.10008.1.2.1.98",  # Encapsulated Uncompressed Explicit VR Little Endian
)


def _table_rows(marker: str) -> list[list[str]]:
    """The cells of the table that follows ``<!-- checked: marker -->``."""
    text = DOCUMENT.read_text(encoding="utf-8")
    start = text.index(f"<!-- checked: {marker} -->")
    rows: list[list[str]] = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not set(cells[0]) <= {"-"}:
            rows.append(cells)
    return rows[1:]  # without the header


def _uids(marker: str) -> list[str]:
    found = [m.group(1) for row in _table_rows(marker) for m in _UID_CELL.finditer(" ".join(row))]
    assert found, f"no UIDs in the table marked {marker!r}"
    return found


def _negotiate(scp: RunningServer, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], bool]:
    """Propose each (abstract syntax, transfer syntax) as its own context; which were accepted."""
    accepted: dict[tuple[str, str], bool] = {}
    for first in range(0, len(pairs), CONTEXTS_PER_ASSOCIATION):
        batch = pairs[first : first + CONTEXTS_PER_ASSOCIATION]
        ae = AE(ae_title=MODALITY_AE)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
        ae.requested_contexts = [build_context(a, [t]) for a, t in batch]
        assoc = ae.associate(scp.host, scp.port, ae_title=scp.ae_title)
        try:
            # pynetdicom aborts an association whose contexts were all refused.
            answers = {cx.context_id: cx for cx in assoc.acceptor.get_contexts("pcdrl")}
            for cx in assoc.requestor.requested_contexts:
                answer = answers.get(cx.context_id)
                key = (str(cx.abstract_syntax), str(cx.transfer_syntax[0]))
                accepted[key] = answer is not None and answer.result == 0x00
        finally:
            if assoc.is_established:
                assoc.release()
    return accepted


def _command_classes() -> list[str]:
    return [
        row[1].strip("`") for row in _table_rows("SCP SOP classes (storage classes are in Annex B)")
    ]


def test_every_listed_class_is_accepted_with_every_listed_transfer_syntax(
    scp: RunningServer,
) -> None:
    pairs = [(a, t) for a in _command_classes() for t in _uids("command transfer syntaxes")]
    pairs += [
        (a, t) for a in _uids("storage SOP classes") for t in _uids("storage transfer syntaxes")
    ]
    accepted = _negotiate(scp, pairs)
    refused = [f"{UID(a).name} with {UID(t).name}" for (a, t), ok in accepted.items() if not ok]
    assert not refused, f"listed but refused: {refused[:10]}"
    assert len(accepted) == len(set(pairs))


def test_no_sop_class_outside_the_tables_is_accepted(scp: RunningServer) -> None:
    listed = set(_command_classes()) | set(_uids("storage SOP classes"))
    # pydicom's dictionary lags pynetdicom's storage list by a few classes: propose both.
    known = {uid for uid, entry in UID_dictionary.items() if entry[1] == "SOP Class"} | listed
    accepted = _negotiate(scp, [(uid, "1.2.840.10008.1.2.1") for uid in sorted(known)])
    taken = {a for (a, _), ok in accepted.items() if ok}
    assert taken - listed == set(), "accepted but not in the statement"
    assert listed - taken == set(), "in the statement but refused"


@pytest.mark.parametrize(
    ("table", "classes"),
    [
        ("command transfer syntaxes", "command"),
        ("storage transfer syntaxes", "storage"),
    ],
)
def test_transfer_syntaxes_outside_the_tables_are_refused(
    scp: RunningServer, table: str, classes: str
) -> None:
    listed = set(_uids(table))
    sample = (
        _command_classes()
        if classes == "command"
        else _uids("storage SOP classes")[:3]  # CR, DX, DX processing: enough to show the rule
    )
    others = [
        uid
        for uid, entry in UID_dictionary.items()
        if entry[1] == "Transfer Syntax" and uid not in listed
    ]
    assert set(UNLISTED_SYNTAXES) <= set(others) | listed
    accepted = _negotiate(scp, [(a, t) for a in sample for t in others])
    wrongly = sorted({UID(t).name for (_, t), ok in accepted.items() if ok})
    assert wrongly == [], f"accepted transfer syntaxes the statement does not list: {wrongly}"


class _ProposalRecorder:
    """A bare pynetdicom SCP keeping the presentation contexts each association proposed."""

    ae_title = "RECORDER"

    def __init__(self) -> None:
        self.proposed: list[list[PresentationContext]] = []
        self._lock = threading.Lock()
        ae = AE(ae_title=self.ae_title)
        for abstract in (
            Verification,
            ModalityWorklistInformationFind,
            ModalityPerformedProcedureStep,
            StorageCommitmentPushModel,
        ):
            ae.add_supported_context(abstract, list(ABBREVIATIONS.values()))
        self._server = cast(
            ThreadedAssociationServer,
            ae.start_server(
                (LOOPBACK, 0),
                block=False,
                evt_handlers=[
                    (evt.EVT_REQUESTED, self._on_requested),
                    (evt.EVT_C_FIND, lambda event: iter([(0x0000, None)])),
                    (evt.EVT_N_CREATE, self._on_create),
                ],
            ),
        )
        self.port = int(self._server.server_address[1])

    def _on_requested(self, event: Event) -> None:
        with self._lock:
            self.proposed.append(list(event.assoc.requestor.requested_contexts))

    @staticmethod
    def _on_create(event: Event) -> tuple[int, object]:
        return 0x0000, event.attribute_list

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture
def recorder() -> Iterator[_ProposalRecorder]:
    peer = _ProposalRecorder()
    yield peer
    peer.stop()


def test_the_scu_proposes_what_the_statement_says(
    recorder: _ProposalRecorder, tmp_path: Path, db: Database
) -> None:
    modality = Modality(tmp_path)
    to = ("--to", f"{LOOPBACK}:{recorder.port}", "--aec", recorder.ae_title)
    modality.ok("echo", *to)
    modality.ok("worklist", "query", *to)
    patient = ("--patient-name", "Doe^Jo", "--patient-id", "X1", "--modality", "CT")
    modality.ok("mpps", "start", "--unscheduled", *patient, *to)
    node = Node("recorder", recorder.ae_title, LOOPBACK, recorder.port)
    reference = (CTImageStorage, generate_uid())
    # The recorder has no N-ACTION handler: the request is refused after it was proposed.
    with pytest.raises(PeerError):
        request_commitment(db, MODALITY_AE, node, [reference], step_uid=None, wait=1)
    proposed = {
        str(cx.abstract_syntax): [str(t) for t in cx.transfer_syntax]
        for contexts in recorder.proposed
        for cx in contexts
    }
    rows = {
        row[2].strip("`"): [ABBREVIATIONS[name.strip()] for name in row[3].split(",")]
        for row in _table_rows("SCU proposals")
        if _UID_CELL.search(row[2])
    }
    for abstract in (
        Verification,
        ModalityWorklistInformationFind,
        ModalityPerformedProcedureStep,
        StorageCommitmentPushModel,
    ):
        assert proposed[abstract] == rows[abstract], UID(abstract).name
