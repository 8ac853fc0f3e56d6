"""Scenario files: the demos parse, record's writer round-trips, mistakes name file:line."""

from __future__ import annotations

import dataclasses

import pytest

from mppsconsole.core.errors import InputError
from mppsconsole.core.scenario import Scenario, dump_scenario, parse_scenario
from mppsconsole.resources import DEMO_SCENARIOS, demo_scenario

MINIMAL = """\
[scenario]
name = "t"
modality = "CT"

[[patient]]
id = "P1"
name = "Doe^Jane"

[[order]]
accession = "A1"
patient = "P1"

[[step]]
order = "A1"
images = 2
"""


def _without_lines(scenario: Scenario) -> Scenario:
    return dataclasses.replace(
        scenario,
        expectations=tuple(dataclasses.replace(e, line=0) for e in scenario.expectations),
    )


@pytest.mark.parametrize("name", DEMO_SCENARIOS)
def test_demo_scenarios_parse_and_round_trip(name: str) -> None:
    path = demo_scenario(name)
    scenario = parse_scenario(path.read_text(encoding="utf-8"), str(path))
    assert len(scenario.steps) >= 3 and scenario.expectations
    assert any(s.outcome == "discontinued" and s.reason is not None for s in scenario.steps)
    again = parse_scenario(dump_scenario(scenario), "dumped.toml")
    assert _without_lines(again) == _without_lines(scenario)


def test_ct_morning_is_five_patients_one_discontinued() -> None:
    path = demo_scenario("ct-morning")
    scenario = parse_scenario(path.read_text(encoding="utf-8"), str(path))
    assert len(scenario.patients) == 5
    assert [s.outcome for s in scenario.steps].count("discontinued") == 1


def test_defaults_of_a_minimal_file() -> None:
    scenario = parse_scenario(MINIMAL, "m.toml")
    (step,) = scenario.steps
    assert step.order is not None and step.order.accession == "A1"
    assert (step.start, step.duration, step.images, step.outcome) == (0.0, 0.0, 2, "completed")
    assert step.patient.name == "Doe^Jane"


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (('order = "A1"', 'order = "A9"'), ("m.toml:14:", "[step] order", "'A9'")),
        (
            ("images = 2", 'images = 2\noutcome = "discontinued"\nreason = "123"'),
            ("m.toml:17:", "reason", "CID 9300"),
        ),
        (("images = 2", 'images = 2\noutcome = "lost"'), ("m.toml:16:", "outcome", "completed")),
        (('patient = "P1"', 'patient = "P7"'), ("m.toml:11:", "[order] patient", "'P7'")),
        (("images = 2", "images = 2\ncolour = 1"), ("m.toml:16:", "colour", "unknown key")),
        (
            ("images = 2", "images = -1"),
            (
                "m.toml:15:",
                "images",
            ),
        ),
        (("images = 2", "images = 2\nstart = -5"), ("m.toml:16:", "start", "negative")),
        (('modality = "CT"', 'modality = "c-t"'), ("m.toml:3:", "modality")),
        (
            ("images = 2", 'images = 2\n\n[[expect]]\nwhat = "images"\nstep = 2\ncount = 1'),
            ("m.toml:19:", "no step 2"),
        ),
        (
            (
                "images = 2",
                'images = 2\n\n[[expect]]\nwhat = "final_status"\nstep = 1\nstatus = "DONE"',
            ),
            ("m.toml:20:", "status"),
        ),
        (("images = 2", 'images = 2\n\n[[expect]]\nwhat = "guess"'), ("m.toml:18:", "what")),
        (("[[step]]", "[[step]\n"), ("m.toml", "line 13")),
    ],
)
def test_mistakes_name_the_file_and_line(
    change: tuple[str, str], fragments: tuple[str, ...]
) -> None:
    text = MINIMAL.replace(*change)
    with pytest.raises(InputError) as caught:
        parse_scenario(text, "m.toml")
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_a_scenario_needs_a_step() -> None:
    with pytest.raises(InputError, match="no \\[\\[step\\]\\]"):
        parse_scenario(MINIMAL.split("[[step]]")[0], "m.toml")


def test_orders_and_unscheduled_steps_may_have_their_own_modality() -> None:
    text = MINIMAL.replace('patient = "P1"\n', 'patient = "P1"\nmodality = "mr"\n', 1)
    text += '\n[[step]]\npatient = "P1"\nmodality = "US"\n\n[[step]]\npatient = "P1"\n'
    scenario = parse_scenario(text, "m.toml")
    assert [s.modality for s in scenario.steps] == ["MR", "US", "CT"]
    assert scenario.orders[0].modality == "MR"
    assert parse_scenario(dump_scenario(scenario), "d.toml") == scenario


def test_a_scheduled_step_takes_its_orders_modality() -> None:
    with pytest.raises(InputError, match=r"m.toml:16: \[step\] modality: unknown key"):
        parse_scenario(MINIMAL + 'modality = "MR"\n', "m.toml")
