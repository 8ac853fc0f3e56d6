"""Generated worklists beyond ASCII survive import -> store -> C-FIND byte for byte, and a
GB18030 order's name reaches the N-CREATE and the images unchanged.

Queried by DCMTK findscu (an independent peer, responses written with -X and read back
with pydicom) and by the console's own SCU.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from mppsconsole.core.matching import WorklistQuery
from mppsconsole.core.settings import Node
from mppsconsole.core.step import RECEIVED, SENT
from mppsconsole.core.worklist import CHARACTER_SETS, WorklistItem
from mppsconsole.core.worklist_file import parse_worklist_file
from mppsconsole.core.worklist_generator import CHARSETS, generate
from mppsconsole.net.modality import complete_step, start_step
from mppsconsole.net.mwl_scu import query_worklist
from mppsconsole.net.workstation import Workstation
from mppsconsole.store import findings, instances, steps, worklist
from tests.conftest import LOOPBACK, RunningServer, dcmtk, dcmtk_env
from tests.network.conftest import TIMEOUT

DAY = dt.date(2026, 11, 21)
DCIODVFY = "/usr/bin/dciodvfy"


def _import(scp: RunningServer, tmp_path: Path, charset: str) -> list[WorklistItem]:
    """Generate, write as `worklist generate -o` does, parse as `worklist import` does, store."""
    path = tmp_path / f"{charset}.json"
    generated = generate(6, charset=charset, day=DAY, seed=7)
    path.write_text(
        json.dumps([i.to_json() for i in generated], ensure_ascii=False), encoding="utf-8"
    )
    items = parse_worklist_file(path.name, path.read_text(encoding="utf-8"))
    assert [i.to_json() for i in items] == [i.to_json() for i in generated]
    with scp.db.transaction() as conn:
        worklist.add_many(conn, items)
    return items


def _findscu(scp: RunningServer, out: Path) -> list[Dataset]:
    out.mkdir()
    args = [dcmtk("findscu"), "-W", "-aet", "FINDSCU", "-aec", scp.ae_title, "-X", "-od", str(out)]
    args += ["-to", str(TIMEOUT), "-ta", str(TIMEOUT), "-td", str(TIMEOUT)]
    for key in (
        "(0010,0010)",
        "(0010,0020)",
        "(0008,0090)",
        "(0032,1060)",
        "(0040,0100)[0].(0040,0007)",
    ):
        args += ["-k", key]
    result = subprocess.run(
        [*args, LOOPBACK, str(scp.port)],
        env=dcmtk_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [pydicom.dcmread(path) for path in sorted(out.glob("rsp*.dcm"))]


def _encoded(value: str, character_set: str) -> bytes:
    """A text value as it must appear on the wire in ``character_set`` (padded to even)."""
    raw = value.encode(CHARACTER_SETS[character_set or "ISO_IR 192"])
    return raw + b" " * (len(raw) % 2)


@pytest.mark.dcmtk
@pytest.mark.parametrize("charset", ["latin1", "utf-8", "gb18030"])
def test_generated_worklist_reaches_findscu_byte_correct(
    scp: RunningServer, tmp_path: Path, charset: str
) -> None:
    items = _import(scp, tmp_path, charset)
    assert any(not i.patient_name.isascii() for i in items)
    responses = _findscu(scp, tmp_path / "rsp")
    by_id = {i.patient_id: i for i in items}
    assert sorted(str(r.PatientID) for r in responses) == sorted(by_id)
    for response in responses:
        item = by_id[str(response.PatientID)]
        assert response.SpecificCharacterSet == CHARSETS[charset]
        raw = response.get_item("PatientName").value
        assert raw == _encoded(item.patient_name, item.character_set)
        assert str(response.PatientName) == item.patient_name
        assert str(response.ReferringPhysicianName) == item.referring_physician
        assert response.RequestedProcedureDescription == item.description
        step = response.ScheduledProcedureStepSequence[0]
        assert step.ScheduledProcedureStepDescription == item.description


@pytest.mark.parametrize("charset", ["ascii", "latin1", "utf-8", "gb18030"])
def test_generated_worklist_reaches_our_scu_intact(
    scp: RunningServer, tmp_path: Path, charset: str
) -> None:
    items = _import(scp, tmp_path, charset)
    node = Node("self", scp.ae_title, LOOPBACK, scp.port)
    result = query_worklist("MODALITY1", node, WorklistQuery())
    got = {i.patient_id: i for i in result.items}
    assert set(got) == {i.patient_id for i in items}
    for item in items:
        received = got[item.patient_id]
        assert received.patient_name == item.patient_name
        assert received.referring_physician == item.referring_physician
        assert received.character_set == item.character_set


def _dciodvfy_errors(path: str) -> list[str]:
    result = subprocess.run([DCIODVFY, path], capture_output=True, text=True, timeout=60)
    return [line for line in (result.stdout + result.stderr).splitlines() if "Error" in line]


@pytest.mark.dcmtk
def test_gb18030_order_reaches_the_step_and_images_unchanged(
    scp: RunningServer, tmp_path: Path
) -> None:
    item = _import(scp, tmp_path, "gb18030")[0]
    station = Workstation.from_settings(scp.settings, "MODALITY1")
    node = Node("self", scp.ae_title, LOOPBACK, scp.port)
    sent = start_step(scp.db, station, node, items=[item])
    assert sent.patient_name == item.patient_name
    done = complete_step(scp.db, station, node, sent.sop_instance_uid, image_count=2)
    assert done.status == "COMPLETED"

    uid = sent.sop_instance_uid
    with scp.db.reading() as conn:
        received = steps.get(conn, uid, RECEIVED)
        create = steps.messages(conn, uid, RECEIVED)[0]
        stored = [i for i in instances.for_step(conn, uid) if i.direction == RECEIVED]
        problems = {d: findings.for_step(conn, uid, d) for d in (RECEIVED, SENT)}
    assert received is not None and received.summary.patient_name == item.patient_name
    assert str(Dataset.from_json(create.dataset_json).PatientName) == item.patient_name
    assert len(stored) == 2
    for instance in stored:
        image = pydicom.dcmread(instance.path)
        assert str(image.PatientName) == item.patient_name
        assert image.AccessionNumber == item.accession_number
        assert not _dciodvfy_errors(instance.path), _dciodvfy_errors(instance.path)
    # the console's own modality, served by its own worklist: nothing to report either way
    assert problems == {RECEIVED: [], SENT: []}
