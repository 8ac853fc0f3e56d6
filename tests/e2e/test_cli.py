"""The command-line contract of DESIGN.md §4, run as ``python -m mppsconsole``."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mppsconsole.resources import sample_worklist
from tests.e2e import peer
from tests.e2e.conftest import DrainedServe, run_cli, steps_json

WORKLIST_FIELDS = {
    "patient_name",
    "patient_id",
    "accession_number",
    "modality",
    "scheduled_station_ae",
    "scheduled_start",
    "study_instance_uid",
    "requested_procedure_id",
    "scheduled_step_id",
    "description",
}
STEP_FIELDS = {
    "sop_instance_uid",
    "status",
    "direction",
    "patient_name",
    "patient_id",
    "accession_number",
    "modality",
    "station_ae",
    "start",
    "end",
    "series_count",
    "image_count",
    "calling_ae",
}
UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def cli(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run a sub-command against ``data_dir`` (the option goes after the sub-command)."""
    return run_cli(*args, "--data-dir", str(data_dir), env=env)


def assert_one_line_error(result: Any, code: int, *fragments: str) -> None:
    """The §4 failure shape: exit ``code``, one ``mppsconsole: error:`` line naming the problem."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mppsconsole: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def worklist_json(data_dir: Path, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    result = cli(data_dir, "worklist", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


def add_item(data_dir: Path, *extra: str) -> Any:
    result = cli(
        data_dir,
        "worklist",
        "add",
        "--patient-name",
        "Doe^Jane",
        "--patient-id",
        "PID-1",
        "--modality",
        "CT",
        *extra,
    )
    assert result.returncode == 0, result.stderr
    return result


# --- version and usage -----------------------------------------------------------


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"mppsconsole \d+\.\d+\.\d+\S*\n", result.stdout)


def test_bad_usage_exits_2_without_traceback(data_dir: Path) -> None:
    result = cli(data_dir, "worklist", "add", "--patient-name", "Doe^Jane")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--patient-id" in result.stderr


# --- worklist add / list ---------------------------------------------------------


def test_worklist_add_then_list(data_dir: Path) -> None:
    added = add_item(data_dir, "--date", "today", "--time", "1430", "--description", "CT chest")
    assert "added" in added.stdout
    add_item(
        data_dir,
        "--date",
        "20261121",
        "--accession",
        "ACC-42",
        "--station-aet",
        "CT01",
        "--birth-date",
        "19700101",
        "--sex",
        "f",
    )

    items = worklist_json(data_dir)
    assert len(items) == 2
    for item in items:
        assert set(item) >= WORKLIST_FIELDS, WORKLIST_FIELDS - set(item)
    by_accession = {item["accession_number"]: item for item in items}
    given = by_accession.pop("ACC-42")
    (generated,) = by_accession.values()

    today = dt.datetime.combine(dt.date.today(), dt.time(14, 30))
    assert dt.datetime.fromisoformat(generated["scheduled_start"]) == today
    assert generated["description"] == "CT chest"
    assert generated["patient_name"] == "Doe^Jane"
    assert generated["modality"] == "CT"
    assert generated["accession_number"].strip()
    assert UID.match(generated["study_instance_uid"])
    assert generated["requested_procedure_id"].strip()
    assert generated["scheduled_step_id"].strip()

    assert dt.datetime.fromisoformat(given["scheduled_start"]) == dt.datetime(2026, 11, 21)
    assert given["scheduled_station_ae"] == "CT01"
    assert given["birth_date"] == "19700101"
    assert given["sex"] == "F"
    # generated identifiers differ from one item to the next
    for key in ("study_instance_uid", "requested_procedure_id", "scheduled_step_id"):
        assert given[key] != generated[key]

    table = cli(data_dir, "worklist", "list")
    assert table.returncode == 0, table.stderr
    assert "ACC-42" in table.stdout
    assert generated["accession_number"] in table.stdout
    assert f"{today:%Y-%m-%d} 14:30" in table.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--date", "2026-11-21"), "2026"),
        (("--date", "20261131"), "20261131"),
        (("--date", "20261101-20261130"), "range"),
        (("--date", "today", "--time", "2561"), "2561"),
        (("--date", "today", "--sex", "X"), "sex"),
        (("--date", "today", "--station-aet", "A\\B"), "station"),
    ],
)
def test_worklist_add_bad_input(data_dir: Path, args: tuple[str, ...], named: str) -> None:
    result = cli(
        data_dir,
        "worklist",
        "add",
        "--patient-name",
        "Doe^Jane",
        "--patient-id",
        "PID-1",
        "--modality",
        "CT",
        *args,
    )
    assert_one_line_error(result, 2, named)


# --- worklist import -------------------------------------------------------------

CSV_TEXT = (
    "patient_name,patient_id,modality,date,time,accession_number,scheduled_station_ae\n"
    "Smith^John,P100,MR,20261121,0800,ACC-100,MR01\n"
    "Roe^Richard,P101,CT,20261121,0930,ACC-101,\n"
)


def json_rows() -> list[dict[str, str]]:
    return [
        {
            "patient_name": "Brown^Alice",
            "patient_id": "P200",
            "modality": "US",
            "date": "20261122",
            "time": "1015",
            "accession_number": "ACC-200",
            "description": "Abdomen",
        },
        {
            "patient_name": "Green^Bob",
            "patient_id": "P201",
            "modality": "CR",
            "scheduled_start": "2026-11-22T11:00:00",
            "accession_number": "ACC-201",
            "study_instance_uid": "1.2.826.0.1.3680043.9.7.201",
            "scheduled_step_id": "SPS-201",
        },
    ]


def test_worklist_import_json_and_csv(data_dir: Path, tmp_path: Path) -> None:
    json_file = tmp_path / "orders.json"
    json_file.write_text(json.dumps(json_rows()), encoding="utf-8")
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(CSV_TEXT, encoding="utf-8")

    for path, count in ((json_file, 2), (csv_file, 2)):
        result = cli(data_dir, "worklist", "import", str(path))
        assert result.returncode == 0, result.stderr
        assert f"imported {count}" in result.stdout

    items = {item["accession_number"]: item for item in worklist_json(data_dir)}
    assert set(items) == {"ACC-100", "ACC-101", "ACC-200", "ACC-201"}
    assert items["ACC-100"]["patient_name"] == "Smith^John"
    assert items["ACC-100"]["scheduled_station_ae"] == "MR01"
    assert items["ACC-100"]["scheduled_start"] == "2026-11-21T08:00:00"
    assert items["ACC-101"]["modality"] == "CT"
    assert items["ACC-200"]["description"] == "Abdomen"
    assert items["ACC-200"]["scheduled_start"] == "2026-11-22T10:15:00"
    assert items["ACC-201"]["study_instance_uid"] == "1.2.826.0.1.3680043.9.7.201"
    assert items["ACC-201"]["scheduled_step_id"] == "SPS-201"
    assert items["ACC-201"]["scheduled_start"] == "2026-11-22T11:00:00"
    for item in items.values():
        assert set(item) >= WORKLIST_FIELDS


def test_worklist_import_shipped_sample(data_dir: Path) -> None:
    """The README's sample: 'today' in a file, non-ASCII names kept intact through JSON."""
    sample = sample_worklist("json")
    result = cli(data_dir, "worklist", "import", str(sample))
    assert result.returncode == 0, result.stderr
    items = {item["patient_id"]: item for item in worklist_json(data_dir)}
    assert len(items) == 5
    assert items["P0003"]["patient_name"] == "Müller^Jürgen"
    assert items["P0004"]["patient_name"] == "张^伟"
    today = dt.date.today()
    assert {dt.datetime.fromisoformat(i["scheduled_start"]).date() for i in items.values()} == {
        today
    }
    table = cli(data_dir, "worklist", "list")
    assert table.returncode == 0, table.stderr
    assert "张^伟" in table.stdout


def test_names_survive_an_output_encoding_without_them(data_dir: Path) -> None:
    """stdout in a code page (Windows, redirected) must not crash on 张^伟 (DESIGN.md §4)."""
    sample = sample_worklist("json")
    assert cli(data_dir, "worklist", "import", str(sample)).returncode == 0
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    listed = cli(data_dir, "worklist", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.isascii()
    names = {item["patient_id"]: item["patient_name"] for item in json.loads(listed.stdout)}
    assert names["P0004"] == "张^伟"
    assert names["P0003"] == "Müller^Jürgen"
    table = run_cli("worklist", "list", "--data-dir", str(data_dir), env=env, encoding="cp1252")
    assert table.returncode == 0, table.stderr
    assert "Traceback" not in table.stderr
    assert "Müller^Jürgen" in table.stdout
    assert "P0004" in table.stdout


def _bad_date_json(rows: list[dict[str, str]]) -> str:
    third = {**rows[0], "accession_number": "ACC-202", "date": "20261340"}
    return json.dumps([*rows, third])


#: name -> (file name, file text or None for "no such file", fragments of the error line)
BAD_IMPORTS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "csv bad date in row 3": (
        "bad-date.csv",
        CSV_TEXT.replace("Roe^Richard,P101,CT,20261121", "Roe^Richard,P101,CT,2026-11-21"),
        ("bad-date.csv", "row 3", "date", "2026-11-21"),
    ),
    "json bad date in item 3": (
        "bad-date.json",
        _bad_date_json(json_rows()),
        ("bad-date.json", "item 3", "date", "20261340"),
    ),
    "unknown field": (
        "unknown.json",
        json.dumps([{**json_rows()[0], "colour": "blue"}]),
        ("unknown.json", "item 1", "unknown field", "colour"),
    ),
    "csv unknown column": (
        "unknown.csv",
        "patient_name,patient_id,modality,date,colour\nA^B,P1,CT,20261121,blue\n",
        ("unknown.csv", "row 2", "unknown field", "colour"),
    ),
    "missing patient_id": (
        "no-id.csv",
        "patient_name,patient_id,modality,date\nA^B,P1,CT,20261121\nC^D,,CT,20261121\n",
        ("no-id.csv", "row 3", "missing patient_id"),
    ),
    "malformed json": (
        "broken.json",
        '[{"patient_name": "A^B", "patient_id": "P1",',
        ("broken.json", "not valid JSON", "line 1"),
    ),
    "json not an array": (
        "object.json",
        json.dumps(json_rows()[0]),
        ("object.json", "array"),
    ),
    "empty file": ("empty.csv", "", ("empty.csv",)),
    "unknown extension": ("orders.txt", CSV_TEXT, ("orders.txt", ".txt", ".json or .csv")),
    "missing file": ("absent.json", None, ("absent.json", "cannot read")),
}


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A data dir holding one worklist item, and its ``list --json`` (made once: it is slow)."""
    data_dir = tmp_path_factory.mktemp("seeded") / "data"
    add_item(data_dir, "--date", "20261121", "--accession", "ACC-EXISTING")
    return data_dir, worklist_json(data_dir)


@pytest.mark.parametrize("case", sorted(BAD_IMPORTS))
def test_worklist_import_refuses_bad_file(
    seeded_store: tuple[Path, list[dict[str, Any]]], tmp_path: Path, case: str
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_store[0], data_dir)
    before = seeded_store[1]
    assert len(before) == 1
    name, text, fragments = BAD_IMPORTS[case]
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")

    result = cli(data_dir, "worklist", "import", str(path))

    assert_one_line_error(result, 2, *fragments)
    assert worklist_json(data_dir) == before


def test_worklist_import_duplicate_imports_nothing(data_dir: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_text(json.dumps(json_rows()[1:]), encoding="utf-8")
    assert cli(data_dir, "worklist", "import", str(first)).returncode == 0
    before = worklist_json(data_dir)
    # a new item first, then the one already stored: all or nothing
    again = tmp_path / "again.json"
    again.write_text(json.dumps(json_rows()), encoding="utf-8")

    result = cli(data_dir, "worklist", "import", str(again))

    assert_one_line_error(
        result, 2, "again.json", "duplicate", "1.2.826.0.1.3680043.9.7.201", "nothing imported"
    )
    assert worklist_json(data_dir) == before


# --- configuration and locations ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "command"),
    [
        ('[local]\nae_title = "CONSOLE"\nport = \n', 3, ("serve", "--port", "0")),
        ('[local]\nae_title = "CONSOLE"\n\nport = "abc"\n', 4, ("serve", "--port", "0")),
        (
            '[[nodes]]\nname = "pacs"\nport = 104\n\n[local]\nport = "abc"\n',
            6,
            ("worklist", "list"),
        ),
        ('[local]\nae_title = "CONSOLE"\nport = 70000\n', 3, ("steps", "list")),
    ],
    ids=["toml syntax", "port not a number", "port after a node's port", "port out of range"],
)
def test_broken_config_names_file_and_line(
    data_dir: Path, tmp_path: Path, text: str, line: int, command: tuple[str, ...]
) -> None:
    config = tmp_path / "broken.toml"
    config.write_text(text, encoding="utf-8")
    result = cli(data_dir, *command, "--config", str(config))
    assert_one_line_error(result, 2, str(config), f"line {line}")


def test_missing_config_file(data_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config.toml"
    result = cli(data_dir, "worklist", "list", "--config", str(missing))
    assert_one_line_error(result, 2, str(missing))
    env = {**os.environ, "MPPSCONSOLE_CONFIG": str(missing)}
    assert_one_line_error(cli(data_dir, "worklist", "list", env=env), 2, str(missing))


def test_config_file_is_used(data_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[local]\nae_title = "E2E-SCP"\nbind_address = "127.0.0.1"\n')
    process = DrainedServe(data_dir, config)
    try:
        assert process.host == "127.0.0.1"
    finally:
        code, err = process.stop()
    assert code == 0
    assert "E2E-SCP" in err


def test_data_dir_from_environment(tmp_path: Path) -> None:
    from_env = tmp_path / "from-env"
    env = {**os.environ, "MPPSCONSOLE_DATA_DIR": str(from_env)}
    env.pop("MPPSCONSOLE_CONFIG", None)
    result = run_cli(
        "worklist",
        "add",
        "--patient-name",
        "Env^Var",
        "--patient-id",
        "P-ENV",
        "--modality",
        "MR",
        "--date",
        "today",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert (from_env / "mppsconsole.sqlite3").is_file()
    listed = run_cli("worklist", "list", "--json", env=env)
    assert result.returncode == 0, listed.stderr
    assert [item["patient_id"] for item in json.loads(listed.stdout)] == ["P-ENV"]
    # --data-dir wins over the environment
    elsewhere = tmp_path / "elsewhere"
    assert worklist_json(elsewhere, env=env) == []


# --- steps ----------------------------------------------------------------------------


def test_steps_after_a_network_step(serve: DrainedServe) -> None:
    data_dir = serve.data_dir
    completed_uid, running_uid = peer.new_uid(), peer.new_uid()
    assoc = peer.associate(serve.port)
    try:
        assert (
            peer.create_step(assoc, completed_uid, patient_id="PID-7", accession="ACC-7")
            == peer.SUCCESS
        )
        assert peer.complete_step(assoc, completed_uid, images=3) == peer.SUCCESS
        assert peer.create_step(assoc, running_uid, patient_id="PID-8") == peer.SUCCESS
    finally:
        assoc.release()

    listed = {step["sop_instance_uid"]: step for step in steps_json(data_dir)}
    assert set(listed) == {completed_uid, running_uid}
    for step in listed.values():
        assert set(step) >= STEP_FIELDS, STEP_FIELDS - set(step)
        assert step["direction"] == "received"
        assert step["calling_ae"] == peer.CALLING_AE
        assert dt.datetime.fromisoformat(step["start"]).date() == dt.date.today()
    done = listed[completed_uid]
    assert done["status"] == "COMPLETED"
    assert (done["patient_name"], done["patient_id"]) == ("Doe^Jane", "PID-7")
    assert (done["accession_number"], done["modality"]) == ("ACC-7", "CT")
    assert done["station_ae"] == peer.CALLING_AE
    assert (done["series_count"], done["image_count"]) == (1, 3)
    assert dt.datetime.fromisoformat(done["end"]) >= dt.datetime.fromisoformat(done["start"])
    running = listed[running_uid]
    assert running["status"] == "IN PROGRESS"
    assert running["end"] is None
    assert (running["series_count"], running["image_count"]) == (0, 0)

    filtered = cli(data_dir, "steps", "list", "--status", "IN PROGRESS", "--json")
    assert filtered.returncode == 0, filtered.stderr
    assert [s["sop_instance_uid"] for s in json.loads(filtered.stdout)] == [running_uid]

    shown = cli(data_dir, "steps", "show", completed_uid, "--json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert {k: detail[k] for k in STEP_FIELDS} == {k: done[k] for k in STEP_FIELDS}
    history = detail["messages"]
    assert [(m["command"], m["status"]) for m in history] == [
        ("N-CREATE", "0x0000"),
        ("N-SET", "0x0000"),
    ]
    for message in history:
        assert message["calling_ae"] == peer.CALLING_AE
        assert message["direction"] == "received"
        dt.datetime.fromisoformat(message["time"])
    assert history[0]["time"] <= history[1]["time"]

    text = cli(data_dir, "steps", "show", completed_uid)
    assert text.returncode == 0, text.stderr
    assert "COMPLETED" in text.stdout
    assert "N-CREATE" in text.stdout and "N-SET" in text.stdout

    table = cli(data_dir, "steps", "list")
    assert table.returncode == 0, table.stderr
    assert completed_uid in table.stdout and running_uid in table.stdout


def test_steps_show_unknown_uid(data_dir: Path) -> None:
    for extra in ((), ("--json",)):
        result = cli(data_dir, "steps", "show", "1.2.3.999", *extra)
        assert_one_line_error(result, 2, "1.2.3.999")
        assert result.stdout == ""


def test_steps_list_empty(data_dir: Path) -> None:
    assert steps_json(data_dir) == []
