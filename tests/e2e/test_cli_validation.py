"""`steps show` prints findings; `worklist generate` writes what `worklist import` takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e import peer
from tests.e2e.conftest import DrainedServe, run_cli


def cli(data_dir: Path, *args: str) -> Any:
    return run_cli(*args, "--data-dir", str(data_dir))


def test_steps_show_prints_the_findings(serve: DrainedServe) -> None:
    uid = peer.new_uid()
    assert peer.run_step(serve.port, uid) == (peer.SUCCESS, peer.SUCCESS)

    shown = cli(serve.data_dir, "steps", "show", uid, "--json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    found = detail["findings"]
    # the peer references two images it never stored, for an order this console never had
    referenced = {
        ref["00081155"]["Value"][0]
        for series in detail["attributes"]["00400340"]["Value"]
        for ref in series["00081140"]["Value"]
    }
    assert {(f["severity"], f["message"]) for f in found} == {
        *(("warning", f"instance {sop} referenced, not stored") for sop in referenced),
        ("info", "scheduled item 1 matches no order in the worklist"),
    }
    assert all(f["rule"] and f["attribute"] for f in found)
    listed = json.loads(cli(serve.data_dir, "steps", "list", "--json").stdout)
    assert (listed[0]["finding_count"], listed[0]["worst_finding"]) == (len(found), "warning")

    text = cli(serve.data_dir, "steps", "show", uid)
    assert text.returncode == 0, text.stderr
    tail = text.stdout[text.stdout.index("\nfindings: ") :].strip().splitlines()
    assert tail[0] == f"findings: {len(found)}"
    assert tail[1:] == [
        f"  {f['severity']:7} {f['attribute']}: {f['message']} [{f['rule']}]" for f in found
    ]


def test_generated_worklist_file_imports_intact(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "orders.json"
    for charset in ("gb18030", "latin1"):
        written = cli(
            data_dir, "worklist", "generate", "5", "--charset", charset, "--seed", "3",
            "--date", "20261121", "-o", str(out),
        )  # fmt: skip
        assert written.returncode == 0, written.stderr
        generated = json.loads(out.read_text(encoding="utf-8"))
        imported = cli(data_dir, "worklist", "import", str(out))
        assert imported.returncode == 0, imported.stderr
    stdout = cli(data_dir, "worklist", "generate", "5", "--charset", "latin1", "--seed", "3",
                 "--date", "20261121")  # fmt: skip
    assert json.loads(stdout.stdout) == generated  # the same seed, the same orders
    listed = json.loads(cli(data_dir, "worklist", "list", "--json").stdout)
    assert len(listed) == 10
    assert [i for i in listed if i["character_set"] == "ISO_IR 100"] == sorted(
        generated, key=lambda i: i["scheduled_start"]
    )
    assert sum(i["character_set"] == "GB18030" and "=" in i["patient_name"] for i in listed) == 5


def test_worklist_generate_import_and_bad_input(data_dir: Path) -> None:
    added = cli(data_dir, "worklist", "generate", "4", "--charset", "utf-8", "--import")
    assert added.returncode == 0, added.stderr
    assert len(json.loads(cli(data_dir, "worklist", "list", "--json").stdout)) == 4
    for args in (("0",), ("3", "--charset", "koi8"), ("3", "--date", "2026-11")):
        bad = cli(data_dir, "worklist", "generate", *args)
        assert bad.returncode == 2, (args, bad.stderr)
        assert "Traceback" not in bad.stderr
