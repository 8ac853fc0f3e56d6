"""The [limits] settings table and the per-peer association rate limiter."""

from __future__ import annotations

from pathlib import Path

import pytest

from mppsconsole.core.errors import ConfigError
from mppsconsole.core.limits import Limits, RateLimiter
from mppsconsole.core.settings import dump_settings, parse_settings

PATH = Path("/etc/mppsconsole/settings.toml")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_defaults_are_documented_values() -> None:
    limits = parse_settings("", PATH).limits
    assert limits == Limits()
    assert (limits.max_associations, limits.associations_per_minute) == (64, 1000)
    assert limits.max_store_bytes == 1024 * 1024 * 1024
    assert limits.max_request_bytes == 16 * 1024 * 1024
    assert limits.idle_timeout == 60


def test_limits_table_is_read_and_written_back() -> None:
    text = (
        "[limits]\nmax_associations = 8\nassociations_per_minute = 0\n"
        "max_store_bytes = 1000000\nmax_request_bytes = 4096\nidle_timeout = 5\n"
    )
    settings = parse_settings(text, PATH)
    assert settings.limits == Limits(8, 0, 1_000_000, 4096, 5)
    assert parse_settings(dump_settings(settings), PATH) == settings


@pytest.mark.parametrize(
    ("text", "line", "key", "why"),
    [
        ("[limits]\nmax_associations = 0\n", 2, "limits.max_associations", "at least 1"),
        ("[limits]\n\nidle_timeout = 0\n", 3, "limits.idle_timeout", "at least 1"),
        ("[limits]\nmax_store_bytes = -1\n", 2, "limits.max_store_bytes", "at least 0"),
        ('[limits]\nmax_request_bytes = "big"\n', 2, "limits.max_request_bytes", "expected int"),
        ("[limits]\nidle_timeout = 1.5\n", 2, "limits.idle_timeout", "expected int"),
    ],
)
def test_bad_limits_name_the_line(text: str, line: int, key: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(text, PATH)
    message = str(info.value)
    assert message.startswith(f"{PATH}, line {line}: {key}: "), message
    assert why in message


def test_limits_must_be_a_table() -> None:
    with pytest.raises(ConfigError, match=r"\[limits\] must be a table"):
        parse_settings("limits = 3\n", PATH)


def test_a_peer_gets_its_burst_then_waits_for_refill() -> None:
    clock = Clock()
    rate = RateLimiter(6, clock)  # 6 a minute: one token every 10 s
    assert [rate.allow("10.0.0.1") for _ in range(7)] == [True] * 6 + [False]
    clock.now += 9.0
    assert not rate.allow("10.0.0.1")
    clock.now += 1.5
    assert rate.allow("10.0.0.1")
    assert not rate.allow("10.0.0.1")
    clock.now += 3600
    assert [rate.allow("10.0.0.1") for _ in range(7)] == [True] * 6 + [False]


def test_peers_are_limited_separately() -> None:
    rate = RateLimiter(2, Clock())
    assert [rate.allow("a") for _ in range(3)] == [True, True, False]
    assert [rate.allow("b") for _ in range(3)] == [True, True, False]


def test_zero_switches_the_limit_off() -> None:
    rate = RateLimiter(0, Clock())
    assert all(rate.allow("a") for _ in range(10_000))
    assert rate.tracked() == 0


def test_quiet_peers_are_forgotten_so_the_table_stays_bounded() -> None:
    clock = Clock()
    rate = RateLimiter(10, clock)
    for n in range(RateLimiter.PRUNE_AT):
        assert rate.allow(f"peer-{n}")
    clock.now += 60  # every bucket is full again
    assert rate.allow("late")
    assert rate.tracked() <= 1
    busy = RateLimiter(10, clock)
    for n in range(RateLimiter.PRUNE_AT + 1):
        busy.allow(f"peer-{n}")
    assert busy.tracked() == RateLimiter.PRUNE_AT + 1  # none of them is full yet
