"""worklist generate's data: deterministic with a seed, plausible, and writable in its charset."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from mppsconsole.core.errors import InputError
from mppsconsole.core.worklist import CHARACTER_SETS, build_item
from mppsconsole.core.worklist_generator import CHARSETS, DAY_START, PROCEDURES, generate

DAY = dt.date(2026, 11, 21)
UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")


def test_the_same_seed_gives_the_same_worklist() -> None:
    first = [i.to_json() for i in generate(20, charset="utf-8", day=DAY, seed=42)]
    again = [i.to_json() for i in generate(20, charset="utf-8", day=DAY, seed=42)]
    other = [i.to_json() for i in generate(20, charset="utf-8", day=DAY, seed=43)]
    assert first == again
    assert first != other


@pytest.mark.parametrize("charset", list(CHARSETS))
def test_names_are_written_in_their_charset(charset: str) -> None:
    items = generate(40, charset=charset, day=DAY, seed=1)
    codec = CHARACTER_SETS[CHARSETS[charset]]
    for item in items:
        assert item.character_set == CHARSETS[charset]
        for text in (item.patient_name, item.referring_physician, item.description):
            text.encode(codec)  # raises when a character is outside the charset
    if charset != "ascii":
        assert any(not i.patient_name.isascii() for i in items)


def test_chinese_names_carry_alphabetic_and_ideographic_groups() -> None:
    for item in generate(20, charset="gb18030", day=DAY, seed=3):
        alphabetic, ideographic = item.patient_name.split("=")
        assert alphabetic.isascii() and "^" in alphabetic
        assert not ideographic.isascii() and "^" in ideographic


def test_orders_are_plausible_and_unique() -> None:
    items = generate(200, charset="latin1", day=DAY, seed=9)
    starts = [i.scheduled_start for i in items]
    assert starts == sorted(starts)
    assert all(s.date() == DAY and DAY_START <= s.time() < dt.time(19) for s in starts)
    assert len({s.time() for s in starts}) > 20  # spread over the day
    assert {(i.modality, i.description, i.scheduled_station_ae) for i in items} <= set(PROCEDURES)
    for field in ("accession_number", "study_instance_uid", "scheduled_step_id", "patient_id"):
        assert len({getattr(i, field) for i in items}) == len(items), field
    for item in items:
        assert UID.match(item.study_instance_uid) and len(item.study_instance_uid) <= 64
        assert item.sex in ("F", "M")
        birth = dt.datetime.strptime(item.birth_date, "%Y%m%d").date()
        assert dt.date(1930, 1, 1) <= birth < DAY
        assert build_item(item.to_json()).to_json() == item.to_json()  # imports back


def test_an_item_refuses_a_name_its_character_set_cannot_write() -> None:
    fields = {"patient_name": "Wang^XiaoDong=王^小东", "patient_id": "P1", "modality": "CT"}
    fields["date"] = "20261121"
    assert build_item({**fields, "character_set": "GB18030"}).character_set == "GB18030"
    with pytest.raises(InputError, match="cannot be written in ISO_IR 100"):
        build_item({**fields, "character_set": "ISO_IR 100"})
    with pytest.raises(InputError, match="unknown character_set 'ISO_IR 6'"):
        build_item({**fields, "character_set": "ISO_IR 6"})
