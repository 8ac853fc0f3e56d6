"""Server behaviour profiles: the TOML format, its errors, and which rules fire when."""

from __future__ import annotations

import fnmatch
import random
import tomllib
from pathlib import Path

import pytest

from mppsconsole import resources
from mppsconsole.core import mpps
from mppsconsole.core.errors import ConfigError
from mppsconsole.core.profile import (
    DEFAULT_MODE,
    LENIENT,
    STRICT,
    FaultRule,
    Profile,
    ProfileHolder,
    load_profile,
    parse_profile,
    simple_rule,
)

FILE = Path("behaviour.toml")


def test_empty_file_is_the_default_profile() -> None:
    profile = parse_profile("", FILE)
    assert profile.mode == DEFAULT_MODE == LENIENT
    assert profile.faults == ()


def test_every_action_parses_with_its_fields() -> None:
    text = """
mode = "strict"

[[faults]]
service = "mpps-set"
calling_ae = "CT1"
action = "status"
status = 0x0110
error_id = 0xA710
error_comment = "late"
count = 3

[[faults]]
service = "worklist"
host = "127.0.0.2"
action = "delay"
delay_ms = 1500
probability = 0.5

[[faults]]
service = "association"
action = "reject"
result = 2
source = 3
reason = 1

[[faults]]
service = "storage"
action = "abort"
abort = "after"

[[faults]]
service = "commitment"
action = "drop-report"
"""
    profile = parse_profile(text, FILE)
    assert profile.mode == STRICT
    assert profile.source == str(FILE)
    status, delay, reject, abort, drop = profile.faults
    assert (status.service, status.calling_ae, status.status, status.error_id) == (
        "mpps-set",
        "CT1",
        0x0110,
        0xA710,
    )
    assert (status.error_comment, status.count) == ("late", 3)
    assert (delay.host, delay.delay_ms, delay.probability) == ("127.0.0.2", 1500, 0.5)
    assert reject.reject == (2, 3, 1)
    assert abort.abort == "after"
    assert drop.action == "drop-report"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('mode = "picky"', 1, r"mode: expected one of strict, lenient"),
        ('mode = "strict"\nextra = 1', 2, r"extra: unknown key"),
        ('\n[[faults]]\nservice = "mpps"\naction = "delay"', 3, r"faults\[1\]\.service: unknown"),
        ('[[faults]]\nservice = "storage"\naction = "explode"', 3, r"faults\[1\]\.action: unknown"),
        (
            '[[faults]]\nservice = "storage"\naction = "delay"\n\n'
            '[[faults]]\nservice = "mpps-create"\naction = "status"\nstatus = 0',
            8,
            r"faults\[2\]\.status: cannot force status 0x0000",
        ),
        ('[[faults]]\nservice = "mpps-create"\naction = "status"\nstatus = "0111"', 4, "expected"),
        ('[[faults]]\nservice = "association"\naction = "status"\nstatus = 0x0110', 3, "applies"),
        ('[[faults]]\nservice = "worklist"\naction = "drop-report"', 3, "applies to commitment"),
        ('[[faults]]\naction = "reject"\nservice = "association"\nsource = 2\nreason = 7', 5, ""),
        ('[[faults]]\nservice = "storage"\naction = "delay"\ndelay_ms = -5', 4, "out of range"),
        ('[[faults]]\nservice = "storage"\naction = "abort"\nabort = "during"', 4, "before"),
        ('[[faults]]\nservice = "association"\naction = "abort"\nabort = "after"', 4, "requested"),
        ('[[faults]]\nservice = "storage"\naction = "delay"\nprobability = 0', 4, "probability"),
        ('[[faults]]\nservice = "storage"\naction = "delay"\ncount = 0', 4, "at least 1"),
        ('[[faults]]\nservice = "storage"\naction = "delay"\nsize = 1', 4, "size: unknown key"),
        ('[[faults]]\nservice = "storage"', 1, "every fault needs a action"),
    ],
)
def test_errors_name_the_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"^behaviour\.toml, line {line}: .*{message}"):
        parse_profile(text, FILE)


def test_toml_syntax_error_names_the_file_and_line() -> None:
    with pytest.raises(ConfigError, match=r"behaviour\.toml: .*line 2"):
        parse_profile('mode = "strict"\n[[faults]\n', FILE)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such profile file"):
        load_profile(tmp_path / "none.toml")


@pytest.mark.parametrize("name", resources.EXAMPLE_PROFILES)
def test_shipped_examples_load(name: str) -> None:
    profile = load_profile(resources.example_profile(name))
    assert profile.mode in (STRICT, LENIENT)


def test_rules_match_service_and_peer() -> None:
    rule = FaultRule("mpps-create", "status", calling_ae="CT1", host="127.0.0.1")
    assert rule.matches("mpps-create", "CT1", "127.0.0.1")
    assert rule.matches("mpps-create", "CT1 ", "127.0.0.1")  # AE titles are space padded
    assert not rule.matches("mpps-create", "MR1", "127.0.0.1")
    assert not rule.matches("mpps-set", "CT1", "127.0.0.1")
    assert not rule.matches("mpps-create", "CT1", "127.0.0.2")
    anyone = FaultRule("storage", "delay", calling_ae="*")
    assert anyone.matches("storage", "MR1", "10.0.0.1")


def test_count_fires_that_many_times_and_restarts_with_a_new_profile() -> None:
    profile = Profile(faults=(FaultRule("mpps-create", "status", count=3),))
    holder = ProfileHolder(profile)
    fired = [len(holder.fire("mpps-create", "CT1", "h")[1]) for _ in range(5)]
    assert fired == [1, 1, 1, 0, 0]
    assert holder.fire("mpps-set", "CT1", "h")[1] == []
    holder.set(profile)
    assert len(holder.fire("mpps-create", "CT1", "h")[1]) == 1


def test_probability_fires_about_that_often() -> None:
    holder = ProfileHolder(
        Profile(faults=(FaultRule("worklist", "delay", probability=0.25),)), random.Random(7)
    )
    fired = sum(len(holder.fire("worklist", "A", "h")[1]) for _ in range(2000))
    assert 400 < fired < 600


def test_all_matching_rules_fire_in_order() -> None:
    delay = FaultRule("mpps-set", "delay", delay_ms=10)
    status = FaultRule("mpps-set", "status", status=0x0110, calling_ae="CT1")
    holder = ProfileHolder(Profile(faults=(delay, status)))
    assert holder.fire("mpps-set", "CT1", "h")[1] == [delay, status]
    assert holder.fire("mpps-set", "MR1", "h")[1] == [delay]


@pytest.mark.parametrize(
    ("action", "value", "expected"),
    [
        ("status", "0x0111", {"status": 0x0111, "error_id": None}),
        ("status", "0110/A710", {"status": 0x0110, "error_id": 0xA710}),
        ("delay", "250", {"delay_ms": 250}),
        ("reject", "", {"reject": (1, 1, 1)}),
        ("reject", "2/3/2", {"reject": (2, 3, 2)}),
        ("abort", "after", {"abort": "after"}),
    ],
)
def test_simple_rules_from_the_window(action: str, value: str, expected: dict[str, object]) -> None:
    service = "association" if action == "reject" else "mpps-create"
    rule = simple_rule(service, " CT1 ", action, value)
    assert rule.calling_ae == "CT1"
    for key, wanted in expected.items():
        assert getattr(rule, key) == wanted
    assert simple_rule(service, "", action, rule.value_text()) == rule.__class__(
        **{**rule.__dict__, "calling_ae": ""}
    )


@pytest.mark.parametrize(
    ("action", "value", "message"),
    [
        ("status", "xyz", "hexadecimal"),
        ("status", "0000", "cannot force"),
        ("delay", "soon", "milliseconds"),
        ("reject", "1/2", "result/source/reason"),
        ("abort", "later", "before"),
    ],
)
def test_simple_rule_errors(action: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simple_rule("storage" if action != "reject" else "association", "", action, value)


def test_type2_and_not_created_rules() -> None:
    attrs = {k: "" for k in mpps.CREATE_TYPE2}
    assert mpps.missing_type2(attrs) == []
    del attrs["PatientSex"]
    attrs["ScheduledStepAttributesSequence"] = [{"StudyInstanceUID": "1.2"}]  # type: ignore[assignment]
    missing = mpps.missing_type2(attrs)
    assert missing[0] == "PatientSex"
    assert "AccessionNumber in ScheduledStepAttributesSequence" in missing
    created = {"PerformedProcedureStepStatus": "IN PROGRESS", "PatientName": ""}
    keywords = [
        "SpecificCharacterSet",
        "PerformedProcedureStepStatus",
        "CommentsOnThePerformedProcedureStep",
    ]
    assert mpps.not_created(created, keywords) == ["CommentsOnThePerformedProcedureStep"]


def test_example_profiles_ship_in_the_wheel_and_the_bundle() -> None:
    """package-data and the PyInstaller spec must carry data/profiles (resources.py finds them)."""
    root = Path(resources.__file__).resolve().parent
    repo = root.parent
    package_data = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["mppsconsole"]
    spec = (repo / "installer" / "mppsconsole.spec").read_text()
    for name in resources.EXAMPLE_PROFILES:
        relative = resources.example_profile(name).relative_to(root).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in package_data), relative
    assert '"mppsconsole/data/profiles"' in spec
