"""Random but plausible worklists for tests and demos, in a chosen character set.

Names come from per-charset lists (Chinese names as ideographic person-name
groups, ``Wang^XiaoDong=王^小东``; European names with accents for ISO_IR
100), so that a worklist exercises the encoding a site's modalities use. The
same seed gives the same worklist, UIDs included.
"""

from __future__ import annotations

import datetime as dt
import random

from mppsconsole.core.worklist import WorklistItem, build_item

#: --charset choice -> the item's Specific Character Set.
CHARSETS = {"ascii": "", "latin1": "ISO_IR 100", "utf-8": "ISO_IR 192", "gb18030": "GB18030"}

_ASCII_FAMILY = ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clark", "Walker", "Young")
_ASCII_GIVEN = {
    "F": ("Jane", "Mary", "Emma", "Olivia", "Grace", "Alice"),
    "M": ("John", "James", "Oliver", "Jack", "Henry", "George"),
}
_LATIN1_FAMILY = (
    "Müller", "Schäfer", "Größer", "Lefèvre", "Côté", "García", "Muñoz", "Sørensen",
    "Ångström", "Þórðarson", "Gonçalves", "Öztürk", "Nuñez", "Dubé",
)  # fmt: skip
_LATIN1_GIVEN = {
    "F": ("Zoë", "Inês", "Åsa", "Françoise", "Márta", "Björg", "Renée"),
    "M": ("Jürgen", "José", "François", "Søren", "Ólafur", "Andrés", "Jérôme"),
}
#: (pinyin, hanzi) family and given names: the PN takes both groups.
_CHINESE_FAMILY = (
    ("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Liu", "刘"), ("Chen", "陈"),
    ("Yang", "杨"), ("Huang", "黄"), ("Zhao", "赵"), ("Wu", "吴"), ("Zhou", "周"),
)  # fmt: skip
_CHINESE_GIVEN = {
    "F": (("XiaoHong", "小红"), ("Fang", "芳"), ("Jing", "静"), ("LiNa", "丽娜"), ("Min", "敏")),
    "M": (("XiaoDong", "小东"), ("Wei", "伟"), ("Qiang", "强"), ("JianGuo", "建国"), ("Lei", "磊")),
}
_OTHER_SCRIPTS = {
    "F": (
        ("Παπαδοπούλου", "Ελένη"), ("Νικολάου", "Μαρία"),
        ("Иванова", "Анна"), ("Смирнова", "Ольга"),
    ),
    "M": (
        ("Παπαδόπουλος", "Γιώργος"), ("Νικολάου", "Δημήτρης"),
        ("Иванов", "Сергей"), ("Смирнов", "Павел"),
    ),
}  # fmt: skip

#: (modality, requested procedure description, station AE) scheduled.
PROCEDURES = (
    ("CT", "CT chest with contrast", "CT01"),
    ("CT", "CT head without contrast", "CT01"),
    ("CT", "CT abdomen and pelvis", "CT02"),
    ("MR", "MR brain", "MR01"),
    ("MR", "MR lumbar spine", "MR01"),
    ("MR", "MR knee", "MR02"),
    ("CR", "Chest PA and lateral", "CR01"),
    ("DX", "Hand two views", "DX01"),
    ("US", "Ultrasound abdomen", "US01"),
)

#: The working day the scheduled times spread over, and the slot length.
DAY_START = dt.time(7, 0)
DAY_SLOTS = 12 * 6  # 07:00 to 19:00 in 10-minute slots


def _chinese(rng: random.Random, sex: str) -> str:
    (family_py, family_hz), (given_py, given_hz) = (
        rng.choice(_CHINESE_FAMILY),
        rng.choice(_CHINESE_GIVEN[sex]),
    )
    return f"{family_py}^{given_py}={family_hz}^{given_hz}"


def _name(rng: random.Random, charset: str, sex: str) -> str:
    """A person name (PN) whose characters all exist in ``charset``."""
    if charset == "ascii":
        return f"{rng.choice(_ASCII_FAMILY)}^{rng.choice(_ASCII_GIVEN[sex])}"
    if charset == "latin1":
        return f"{rng.choice(_LATIN1_FAMILY)}^{rng.choice(_LATIN1_GIVEN[sex])}"
    if charset == "gb18030":
        return _chinese(rng, sex)
    kind = rng.choice(("gb18030", "latin1", "other"))
    if kind != "other":
        return _name(rng, kind, sex)
    family, given = rng.choice(_OTHER_SCRIPTS[sex])
    return f"{family}^{given}"


def _number(rng: random.Random, prefix: str, digits: int) -> str:
    return f"{prefix}{rng.randrange(10**digits):0{digits}d}"


def generate(
    count: int, *, charset: str, day: dt.date, seed: int | None = None
) -> list[WorklistItem]:
    """``count`` orders for ``day``, by scheduled time, names written in ``charset``.

    Items pass through :func:`build_item`, so they satisfy every rule an
    imported file must.
    """
    if charset not in CHARSETS:
        raise ValueError(f"unknown charset {charset!r}")
    # The charset is part of the seed: files made with one seed for two charsets can be
    # imported side by side (their orders would otherwise share every identifier).
    rng = random.Random(None if seed is None else f"{charset}:{seed}")
    slots = sorted(rng.randrange(DAY_SLOTS) for _ in range(count))
    items = []
    for slot in slots:
        sex = rng.choice("FM")
        modality, description, station = rng.choice(PROCEDURES)
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(90 * 365))
        start = dt.datetime.combine(day, DAY_START) + dt.timedelta(minutes=10 * slot)
        items.append(
            build_item(
                {
                    "patient_name": _name(rng, charset, sex),
                    "patient_id": _number(rng, "P", 8),
                    "birth_date": birth.strftime("%Y%m%d"),
                    "sex": sex,
                    "modality": modality,
                    "scheduled_start": start.isoformat(),
                    "accession_number": _number(rng, "A", 10),
                    "study_instance_uid": f"2.25.{rng.getrandbits(128)}",
                    "requested_procedure_id": _number(rng, "RP", 8),
                    "scheduled_step_id": _number(rng, "SPS", 8),
                    "description": description,
                    "scheduled_station_ae": station,
                    "referring_physician": _name(rng, charset, rng.choice("FM")),
                    "character_set": CHARSETS[charset],
                }
            )
        )
    return items
