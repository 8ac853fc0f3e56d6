"""Worklist query (IHE RAD-5) against DCMTK wlmscpfs serving generated worklist files.

Every filter of DESIGN.md §4 must give exactly the expected orders, the items
must be cached in the store under the node's name, ``--limit`` caps the result
(C-CANCEL), and a step started from a cached item carries what the RIS sent.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mppsconsole.core.matching import WorklistQuery
from mppsconsole.core.settings import Node
from mppsconsole.core.worklist import WorklistItem
from mppsconsole.net.mwl_scu import query_worklist
from mppsconsole.store import worklist
from tests.conftest import LOOPBACK
from tests.network.peers import (
    MODALITY_AE,
    DcmtkServer,
    Modality,
    Order,
    RecordingScp,
    node_toml,
    recording_scp,
    wlmscpfs,
    write_worklist,
)

pytestmark = pytest.mark.dcmtk

RIS_AE = "RISWL"
TODAY = dt.date.today().strftime("%Y%m%d")

ORDERS = (
    Order("ACC-101", "Doe^Jane", "PID-1", "CT", "CT1", "19991101", "090000", sex="F"),
    Order("ACC-102", "Doe^John", "PID-2", "MR", "MR1", "19991101", "103000", sex="M"),
    Order("ACC-103", "Smith^Anna", "PID-3", "CT", "CT2", "19991102", "080000"),
    Order("ACC-104", "Smithers^Bob", "PID-4", "US", "US1", "19991105", "140000", sex="M"),
    Order("ACC-105", "Brown^Carl", "PID-5", "CT", "CT1", "19991110", "110000", sex="M"),
    Order("ACC-106", "Today^Tom", "PID-6", "MR", "MR1", TODAY, "120000", sex="M"),
)
BY_ACCESSION = {order.accession: order for order in ORDERS}


@pytest.fixture(scope="module")
def ris(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcmtkServer]:
    root = tmp_path_factory.mktemp("ris") / "worklists"
    write_worklist(root, RIS_AE, ORDERS)
    with wlmscpfs(root) as server:
        yield server


@pytest.fixture
def modality(tmp_path: Path, ris: DcmtkServer) -> Modality:
    return Modality(tmp_path, node_toml("ris", RIS_AE, ris.port))


def ris_to(ris: DcmtkServer) -> tuple[str, ...]:
    return ("--to", f"{LOOPBACK}:{ris.port}", "--aec", RIS_AE)


def query(modality: Modality, ris: DcmtkServer, *filters: str) -> list[dict[str, str]]:
    data = modality.ok("worklist", "query", *ris_to(ris), *filters, "--json").json()
    assert isinstance(data, list)
    return data


def accessions(rows: list[dict[str, str]]) -> set[str]:
    return {row["accession_number"] for row in rows}


def cached(modality: Modality, source: str) -> list[WorklistItem]:
    with modality.database() as db, db.reading() as conn:
        return worklist.list_items(conn, source=source)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ((), {"ACC-101", "ACC-102", "ACC-103", "ACC-104", "ACC-105", "ACC-106"}),
        (("--date", "19991101"), {"ACC-101", "ACC-102"}),
        (("--date", "19991101-19991105"), {"ACC-101", "ACC-102", "ACC-103", "ACC-104"}),
        (("--date", "19991105-"), {"ACC-104", "ACC-105", "ACC-106"}),
        (("--date", "-19991101"), {"ACC-101", "ACC-102"}),
        (("--date", "today"), {"ACC-106"}),
        (("--modality", "CT"), {"ACC-101", "ACC-103", "ACC-105"}),
        (("--modality", "us"), {"ACC-104"}),
        (("--station-aet", "CT1"), {"ACC-101", "ACC-105"}),
        (("--patient-name", "Smith*"), {"ACC-103", "ACC-104"}),
        (("--patient-name", "Doe^Jo?n"), {"ACC-102"}),
        (("--patient-name", "Brown^Carl"), {"ACC-105"}),
        (("--patient-id", "PID-3"), {"ACC-103"}),
        (("--accession", "ACC-105"), {"ACC-105"}),
        (
            ("--modality", "CT", "--station-aet", "CT1", "--date", "19991101-19991105"),
            {"ACC-101"},
        ),
        (("--patient-id", "NOBODY"), set()),
    ],
)
def test_each_filter_gives_exactly_the_expected_items(
    modality: Modality, ris: DcmtkServer, filters: tuple[str, ...], expected: set[str]
) -> None:
    rows = query(modality, ris, *filters)
    assert len(rows) == len(expected)
    assert accessions(rows) == expected
    assert {i.accession_number for i in cached(modality, f"{LOOPBACK}:{ris.port}")} == expected


def test_json_items_carry_what_the_ris_sent(modality: Modality, ris: DcmtkServer) -> None:
    (row,) = query(modality, ris, "--accession", "ACC-102")
    order = BY_ACCESSION["ACC-102"]
    assert row["patient_name"] == order.patient_name
    assert row["patient_id"] == order.patient_id
    assert row["birth_date"] == order.birth_date
    assert row["sex"] == "M"
    assert row["modality"] == "MR"
    assert row["scheduled_station_ae"] == "MR1"
    assert row["scheduled_start"] == "1999-11-01T10:30:00"
    assert row["study_instance_uid"] == order.study_uid
    assert row["requested_procedure_id"] == "RP-ACC-102"
    assert row["scheduled_step_id"] == "SPS-ACC-102"
    assert row["description"] == order.description
    assert row["step_description"] == order.step_description
    assert row["referring_physician"] == "Referrer^Rita"
    assert (
        row["protocol_code_value"],
        row["protocol_coding_scheme"],
        row["protocol_code_meaning"],
    ) == order.protocol


def test_table_output_lists_the_items(modality: Modality, ris: DcmtkServer) -> None:
    out = modality.ok("worklist", "query", *ris_to(ris), "--modality", "CT").stdout
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["SCHEDULED", "ACCESSION", "PATIENT"]
    assert len(lines) == 4
    assert {line.split()[2] for line in lines[1:]} == {"ACC-101", "ACC-103", "ACC-105"}


def test_named_node_and_cache_replaced_not_duplicated(modality: Modality) -> None:
    first = modality.ok("worklist", "query", "--to", "ris", "--modality", "CT", "--json").json()
    assert accessions(first) == {"ACC-101", "ACC-103", "ACC-105"}
    modality.ok("worklist", "query", "--to", "ris", "--json")
    modality.ok("worklist", "query", "--to", "ris", "--json")
    items = cached(modality, "ris")
    assert sorted(i.accession_number for i in items) == sorted(BY_ACCESSION)
    assert {i.source for i in items} == {"ris"}
    # Cached items are not the local worklist.
    assert cached(modality, "local") == []


def test_limit_caps_results_and_says_so(modality: Modality, ris: DcmtkServer) -> None:
    result = modality.ok("worklist", "query", *ris_to(ris), "--limit", "2", "--json")
    rows = result.json()
    assert len(rows) == 2
    assert accessions(rows) <= set(BY_ACCESSION)
    assert "only the first 2 items" in result.stderr
    assert len(cached(modality, f"{LOOPBACK}:{ris.port}")) == 2
    # A later, uncapped query on the same association-free node still works (wlmscpfs
    # survived the C-CANCEL).
    assert len(query(modality, ris)) == len(ORDERS)


def test_limit_must_be_positive(modality: Modality, ris: DcmtkServer) -> None:
    modality.run("worklist", "query", *ris_to(ris), "--limit", "0").assert_one_line_error(
        2, "--limit"
    )


def test_bad_date_is_bad_input(modality: Modality, ris: DcmtkServer) -> None:
    modality.run("worklist", "query", *ris_to(ris), "--date", "1999-11-01").assert_one_line_error(
        2, "date"
    )


def test_service_limit_and_cancel(ris: DcmtkServer) -> None:
    node = Node("ris", RIS_AE, LOOPBACK, ris.port)
    capped = query_worklist(MODALITY_AE, node, WorklistQuery(), limit=3)
    assert len(capped.items) == 3 and capped.truncated and not capped.cancelled
    stop = threading.Event()
    stop.set()
    stopped = query_worklist(MODALITY_AE, node, WorklistQuery(), cancel=stop)
    assert stopped.cancelled and not stopped.truncated
    assert len(stopped.items) == 1
    full = query_worklist(MODALITY_AE, node, WorklistQuery(modality="MR"))
    assert {i.accession_number for i in full.items} == {"ACC-102", "ACC-106"}
    assert not full.truncated and not full.cancelled
    assert {i.source for i in full.items} == {"ris"}


def test_wrong_called_ae_is_rejected(modality: Modality, ris: DcmtkServer) -> None:
    result = modality.run("worklist", "query", "--to", f"{LOOPBACK}:{ris.port}", "--aec", "NOPE")
    result.assert_one_line_error(1, "association rejected", f"NOPE@{LOOPBACK}:{ris.port}")


@pytest.fixture
def recorder() -> Iterator[RecordingScp]:
    with recording_scp() as peer:
        yield peer


def test_step_started_from_a_cached_item_carries_what_the_ris_sent(
    modality: Modality, ris: DcmtkServer, recorder: RecordingScp
) -> None:
    """RAD-5 then RAD-6: the N-CREATE copies the RIS's order, protocol code included."""
    query(modality, ris, "--accession", "ACC-103")
    uid = modality.ok("mpps", "start", *recorder.to, "--accession", "ACC-103").stdout.strip()
    (create,) = recorder.creates
    assert create.sop_instance_uid == uid
    order = BY_ACCESSION["ACC-103"]
    (ssa,) = create.dataset.ScheduledStepAttributesSequence
    assert ssa.StudyInstanceUID == order.study_uid
    assert ssa.AccessionNumber == "ACC-103"
    assert ssa.RequestedProcedureID == order.requested_procedure_id
    assert ssa.RequestedProcedureDescription == order.description
    assert ssa.ScheduledProcedureStepID == order.scheduled_step_id
    assert ssa.ScheduledProcedureStepDescription == order.step_description
    (code,) = ssa.ScheduledProtocolCodeSequence
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == order.protocol
    assert create.dataset.PatientName == order.patient_name
    assert create.dataset.PatientID == order.patient_id
    assert create.dataset.Modality == "CT"
