"""A scenario against independent peers: DCMTK wlmscpfs holds the orders, DCMTK storescp
takes the images, our own SCP (in-process) takes the MPPS messages.

wlmscpfs speaks no MPPS and storescp no storage commitment, so each plays the
part it supports (``--worklist`` and ``--store-to`` send those parts elsewhere).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mppsconsole.core.step import RECEIVED
from mppsconsole.store import steps
from tests.conftest import RunningServer
from tests.network.peers import (
    Modality,
    Order,
    dataset_files,
    node_toml,
    storescp,
    wlmscpfs,
    write_worklist,
)

SCENARIO = """\
[scenario]
name = "DCMTK peers"
modality = "CT"
station_ae = "CT01"

[[patient]]
id = "DK-1"
name = "Peer^Paula"

[[patient]]
id = "DK-2"
name = "Peer^Pete"

[[order]]
accession = "DK0001"
patient = "DK-1"

[[order]]
accession = "DK0002"
patient = "DK-2"

[[step]]
order = "DK0001"
start = 0
duration = 60
images = 3

[[step]]
order = "DK0002"
start = 30
duration = 60
images = 1
outcome = "discontinued"
reason = "110505"

[[expect]]
what = "worklist"
order = "DK0001"

[[expect]]
what = "worklist"
order = "DK0002"

[[expect]]
what = "final_status"
step = 1
status = "COMPLETED"

[[expect]]
what = "images"
step = 1
count = 3

[[expect]]
what = "final_status"
step = 2
status = "DISCONTINUED"
"""


def test_scenario_with_dcmtk_worklist_and_storage(tmp_path: Path, scp: RunningServer) -> None:
    today = dt.date.today().strftime("%Y%m%d")
    orders = [
        Order("DK0001", "Peer^Paula", "DK-1", "CT", "CT01", today),
        Order("DK0002", "Peer^Pete", "DK-2", "CT", "CT01", today),
    ]
    root = tmp_path / "worklists"
    write_worklist(root, "WLM", orders)
    scenario = tmp_path / "dcmtk.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    with wlmscpfs(root) as wlm, storescp(tmp_path / "pacs") as pacs:
        modality = Modality(
            tmp_path,
            node_toml("wlm", "WLM", wlm.port)
            + node_toml("pacs", "PACS", pacs.port)
            + node_toml("ris", scp.ae_title, scp.port),
        )
        result = modality.run(
            "scenario", "run", str(scenario), "--to", "ris", "--worklist", "wlm",
            "--store-to", "pacs", "--speed", "600",
        )  # fmt: skip
        assert result.code == 0, result.stdout + result.stderr
        assert "5 of 5 expectation(s) passed" in result.stdout
        assert len(dataset_files(tmp_path / "pacs")) == 4
    with scp.db.reading() as conn:
        received = [s for s in steps.list_steps(conn) if s.direction == RECEIVED]
    by_accession = {s.accession_number: s for s in received}
    assert by_accession["DK0001"].status == "COMPLETED"
    assert by_accession["DK0001"].image_count == 3
    assert by_accession["DK0001"].study_instance_uid == orders[0].study_uid  # from wlmscpfs
    assert by_accession["DK0002"].status == "DISCONTINUED"
