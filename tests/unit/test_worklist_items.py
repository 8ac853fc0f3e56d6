"""Worklist items from user input (build_item) and import files (all or nothing)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mppsconsole.core.errors import InputError
from mppsconsole.core.worklist import SCHEDULED, WorklistItem, build_item, new_uid
from mppsconsole.core.worklist_file import parse_worklist_file

UID = re.compile(r"^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$")  # PS3.5 9.1: no leading zeros


def fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "patient_name": "Doe^Jane",
        "patient_id": "P1",
        "modality": "CT",
        "date": "20261121",
        "time": "1015",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


# --- build_item ---------------------------------------------------------------


def test_minimal_item_gets_generated_identifiers() -> None:
    item = build_item(fields())
    assert item.patient_name == "Doe^Jane"
    assert item.patient_id == "P1"
    assert item.modality == "CT"
    assert item.scheduled_start == dt.datetime(2026, 11, 21, 10, 15)
    assert re.fullmatch(r"A\d{12}", item.accession_number)
    assert re.fullmatch(r"RP\d{12}", item.requested_procedure_id)
    assert re.fullmatch(r"SPS\d{12}", item.scheduled_step_id)
    assert item.study_instance_uid.startswith("2.25.")
    assert item.status == SCHEDULED
    assert item.source == "local"
    assert item.id is None


def test_generated_identifiers_fit_their_dicom_value_representations() -> None:
    item = build_item(fields())
    # AccessionNumber and the step/procedure IDs are SH (16), the UID is UI (64).
    for value in (item.accession_number, item.requested_procedure_id, item.scheduled_step_id):
        assert len(value) <= 16
    assert len(item.study_instance_uid) <= 64
    assert UID.match(item.study_instance_uid)


def test_generated_identifiers_differ_between_items() -> None:
    first, second = build_item(fields()), build_item(fields())
    assert first.study_instance_uid != second.study_instance_uid
    assert first.accession_number != second.accession_number
    assert first.scheduled_step_id != second.scheduled_step_id


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10))
def test_new_uid_is_a_valid_uid(_: int) -> None:
    uid = new_uid()
    assert UID.match(uid)
    assert len(uid) <= 64


def test_given_identifiers_are_kept() -> None:
    item = build_item(
        fields(
            accession_number="ACC1",
            study_instance_uid="1.2.3",
            requested_procedure_id="RP9",
            scheduled_step_id="SPS9",
        )
    )
    assert (
        item.accession_number,
        item.study_instance_uid,
        item.requested_procedure_id,
        item.scheduled_step_id,
    ) == ("ACC1", "1.2.3", "RP9", "SPS9")


def test_values_are_trimmed_and_normalised() -> None:
    item = build_item(
        fields(patient_name="  Doe^Jane ", patient_id=" P1 ", modality=" ct ", sex="f")
    )
    assert item.patient_name == "Doe^Jane"
    assert item.patient_id == "P1"
    assert item.modality == "CT"
    assert item.sex == "F"


def test_non_text_values_from_json_become_text() -> None:
    item = build_item(fields(patient_id=12345, accession_number=None))
    assert item.patient_id == "12345"
    assert re.fullmatch(r"A\d{12}", item.accession_number)


def test_iso_scheduled_start_takes_precedence_over_date_and_time() -> None:
    item = build_item(fields(scheduled_start="2026-12-01T08:30:00"))
    assert item.scheduled_start == dt.datetime(2026, 12, 1, 8, 30)


def test_date_without_time_means_midnight() -> None:
    assert build_item(fields(time=...)).scheduled_start == dt.datetime(2026, 11, 21)


@pytest.mark.parametrize("required", ["patient_name", "patient_id", "modality"])
@pytest.mark.parametrize("value", [..., "", "   ", None])
def test_missing_required_field_is_refused_naming_it(required: str, value: Any) -> None:
    with pytest.raises(InputError, match=f"missing {required}"):
        build_item(fields(**{required: value}))


def test_missing_date_is_refused() -> None:
    with pytest.raises(InputError, match="missing date"):
        build_item(fields(date=..., time=...))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"date": "20261131"}, "no such day"),
        ({"date": "21.11.2026"}, "invalid date"),
        ({"time": "2500"}, "invalid time"),
        ({"time": "10.30"}, "invalid time"),
        ({"scheduled_start": "tomorrow"}, "invalid scheduled_start"),
        ({"birth_date": "19801301"}, "invalid date"),
        ({"sex": "X"}, "invalid sex"),
        ({"modality": "C/T"}, "invalid modality"),
        ({"modality": "M" * 17}, "invalid modality"),
        ({"scheduled_station_ae": "A" * 17}, "invalid station AE"),
        ({"scheduled_station_ae": "CT\\1"}, "invalid station AE"),
        ({"patient_id": "P\\1"}, "invalid patient_id"),
        ({"patient_id": "P" * 65}, "invalid patient_id"),
        ({"patient_name": "Doe\\Jane"}, "invalid patient_name"),
        ({"ward": "3B"}, "unknown field ward"),
    ],
)
def test_invalid_fields_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        build_item(fields(**overrides))


def test_optional_fields_are_kept() -> None:
    item = build_item(
        fields(
            birth_date="19800115",
            sex="O",
            description="CT chest",
            scheduled_station_ae="CT1",
            referring_physician="House^Gregory",
        )
    )
    assert item.birth_date == "19800115"
    assert item.sex == "O"
    assert item.description == "CT chest"
    assert item.scheduled_station_ae == "CT1"
    assert item.referring_physician == "House^Gregory"


CONTRACT_KEYS = {
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


def test_to_json_carries_the_command_line_contract() -> None:
    item = build_item(fields(scheduled_station_ae="CT1", description="CT chest"))
    data = item.to_json()
    assert set(data) >= CONTRACT_KEYS
    assert data["scheduled_start"] == "2026-11-21T10:15:00"
    assert data["scheduled_station_ae"] == "CT1"
    json.dumps(data)  # plain JSON types only


names = st.text(alphabet="ABCDEFGHIJabcdefghij^ ", min_size=1, max_size=20).filter(str.strip)
ids = st.text(alphabet="ABC0123456789", min_size=1, max_size=16)


@settings(max_examples=100, deadline=None)
@given(
    name=names,
    pid=ids,
    modality=st.sampled_from(["CT", "MR", "US", "CR", "DX"]),
    start=st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)
def test_exported_item_imports_back_unchanged(
    name: str, pid: str, modality: str, start: dt.datetime
) -> None:
    item = build_item(
        {"patient_name": name, "patient_id": pid, "modality": modality,
         "scheduled_start": start.isoformat()}
    )  # fmt: skip
    again = build_item(item.to_json())
    assert again.to_json() == item.to_json()
    assert again.scheduled_start == start


# --- import files ------------------------------------------------------------


def test_json_file_is_imported() -> None:
    text = json.dumps(
        [
            {"patient_name": "Doe^Jane", "patient_id": "P1", "modality": "CT", "date": "20261121"},
            {
                "patient_name": "Roe^Rick",
                "patient_id": "P2",
                "modality": "mr",
                "scheduled_start": "2026-11-21T11:00",
                "accession_number": "ACC2",
            },
        ]
    )
    items = parse_worklist_file("orders.json", text)
    assert [i.patient_id for i in items] == ["P1", "P2"]
    assert items[1].modality == "MR"
    assert items[1].accession_number == "ACC2"
    assert all(isinstance(i, WorklistItem) for i in items)


def test_csv_file_is_imported_with_empty_cells_as_absent() -> None:
    text = (
        "patient_name, patient_id ,modality,date,time,accession_number\n"
        "Doe^Jane,P1,CT,20261121,0900,ACC1\n"
        "Roe^Rick,P2,MR,20261121,,\n"
    )
    items = parse_worklist_file("orders.CSV", text)
    assert [i.patient_id for i in items] == ["P1", "P2"]
    assert items[0].accession_number == "ACC1"
    assert items[0].scheduled_start == dt.datetime(2026, 11, 21, 9, 0)
    assert items[1].scheduled_start == dt.datetime(2026, 11, 21, 0, 0)
    assert re.fullmatch(r"A\d{12}", items[1].accession_number)


def test_bad_json_item_is_reported_by_number_and_nothing_is_returned() -> None:
    rows = [
        {"patient_name": "A^B", "patient_id": "P1", "modality": "CT", "date": "20261121"},
        {"patient_name": "C^D", "patient_id": "P2", "modality": "CT", "date": "20261121"},
        {"patient_name": "E^F", "patient_id": "P3", "modality": "CT", "date": "20261199"},
    ]
    with pytest.raises(InputError, match=r"^item 3: .*no such day"):
        parse_worklist_file("orders.json", json.dumps(rows))


def test_bad_csv_row_is_reported_by_its_line_in_the_file() -> None:
    text = (
        "patient_name,patient_id,modality,date\n"
        "A^B,P1,CT,20261121\n"
        "C^D,P2,CT,20261121\n"
        "E^F,,CT,20261121\n"
    )
    with pytest.raises(InputError, match=r"^row 4: missing patient_id"):
        parse_worklist_file("orders.csv", text)


def test_csv_row_with_more_values_than_columns_is_refused() -> None:
    text = "patient_name,patient_id,modality,date\nA^B,P1,CT,20261121,extra\n"
    with pytest.raises(InputError, match="row 2: more values than header columns"):
        parse_worklist_file("orders.csv", text)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("orders.json", '[{"patient_name": "A"', "not valid JSON"),
        ("orders.json", '{"patient_name": "A"}', "JSON array of objects"),
        ("orders.json", '["A^B"]', "JSON array of objects"),
        ("orders.json", "[]", "no worklist items"),
        ("orders.csv", "", "no header row"),
        ("orders.csv", "patient_name,patient_id,modality,date\n", "no worklist items"),
        ("orders.txt", "[]", "unknown file type .txt"),
        ("orders", "[]", "unknown file type (none)"),
    ],
)
def test_unusable_files_are_refused(name: str, text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse_worklist_file(name, text)


def test_json_syntax_error_names_line_and_column() -> None:
    text = '[\n  {"patient_name": "A^B",\n   "patient_id": }\n]'
    with pytest.raises(InputError, match=r"line 3, column \d+"):
        parse_worklist_file("orders.json", text)


def test_unknown_column_is_refused() -> None:
    text = "patient_name,patient_id,modality,date,ward\nA^B,P1,CT,20261121,3B\n"
    with pytest.raises(InputError, match="row 2: unknown field ward"):
        parse_worklist_file("orders.csv", text)
