"""Server behaviour profiles: how strictly the SCP reads requests, and which faults it injects.

Integrators bring up a RIS or a modality against the console and need to see
how their side copes with a department node that is picky, forgiving or
broken. A :class:`Profile` says which: ``mode`` chooses how the MPPS rules
treat what real modalities send (see :mod:`mppsconsole.core.mpps`), and
:class:`FaultRule` entries force a status, delay a response, reject or abort
an association or drop a storage commitment report, for one service and
optionally one peer. A profile is a TOML file (``serve --profile FILE``) or
is edited in the window; the SCP reads the active one from a
:class:`ProfileHolder`, swapped atomically while it runs.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mppsconsole.core.errors import ConfigError
from mppsconsole.core.settings import _line_of, _Reader

STRICT = "strict"
LENIENT = "lenient"
MODES = (STRICT, LENIENT)
#: The mode when nothing is configured: what the SCP did before profiles existed.
DEFAULT_MODE = LENIENT

SERVICES = (
    "association",
    "verification",
    "mpps-create",
    "mpps-set",
    "mpps-get",
    "worklist",
    "storage",
    "commitment",
)
STATUS = "status"
DELAY = "delay"
REJECT = "reject"
ABORT = "abort"
DROP_REPORT = "drop-report"
ACTIONS = (STATUS, DELAY, REJECT, ABORT, DROP_REPORT)
#: Which services each action can apply to.
ACTION_SERVICES = {
    STATUS: frozenset(SERVICES) - {"association"},
    DELAY: frozenset(SERVICES),
    REJECT: frozenset({"association"}),
    ABORT: frozenset(SERVICES),
    DROP_REPORT: frozenset({"commitment"}),
}
BEFORE = "before"
AFTER = "after"
#: Statuses a fault may not force: they would claim work that was not done, or break DIMSE.
UNFORCEABLE = frozenset({0x0000, 0xFF00, 0xFF01, 0xFE00})
#: A-ASSOCIATE-RJ diagnostics allowed for each source (PS3.8 9.3.4).
REJECT_REASONS = {1: (1, 2, 3, 7), 2: (1, 2), 3: (1, 2)}
MAX_DELAY_MS = 600_000


@dataclasses.dataclass(frozen=True)
class FaultRule:
    """One injected fault: where it applies, what it does, how often."""

    service: str
    action: str
    calling_ae: str = ""  # "" or "*": any peer
    host: str = ""  # "": any address
    status: int = 0x0110
    error_comment: str = ""
    error_id: int | None = None
    delay_ms: int = 0
    reject: tuple[int, int, int] = (1, 1, 1)  # result, source, reason
    abort: str = BEFORE  # before or after the response is sent
    probability: float = 1.0
    count: int | None = None  # fire this many times, then never again

    def matches(self, service: str, calling_ae: str, host: str) -> bool:
        """True when the rule is about this service and this peer."""
        return (
            self.service == service
            and self.calling_ae in ("", "*", calling_ae.strip())
            and self.host in ("", host)
        )

    def describe(self) -> str:
        """Short text for logs, the traffic log and the rule table."""
        return f"{self.action} {self.value_text()}".strip()

    def value_text(self) -> str:
        """The action's parameter as typed in the window (see :func:`parse_value`)."""
        if self.action == STATUS:
            text = f"0x{self.status:04X}"
            if self.error_id is not None:
                text += f"/{self.error_id:04X}"
            return text
        if self.action == DELAY:
            return str(self.delay_ms)
        if self.action == REJECT:
            return "/".join(str(n) for n in self.reject)
        if self.action == ABORT:
            return self.abort
        return ""


@dataclasses.dataclass(frozen=True)
class Profile:
    """The behaviour of the SCP: a mode and fault rules, tried in order."""

    mode: str = DEFAULT_MODE
    faults: tuple[FaultRule, ...] = ()
    source: str = ""  # the file it came from, for the window and the logs

    @property
    def lenient(self) -> bool:
        return self.mode == LENIENT


class ProfileHolder:
    """The active profile, swapped atomically at run time, and the rules' firing counts.

    SCP handlers call :meth:`fire` once per message; counts and chance live
    here, not in the frozen rules, so that replacing the profile starts them
    afresh ("the next 3 N-CREATEs" means from now).
    """

    def __init__(self, profile: Profile | None = None, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._profile = profile or Profile()
        self._fired: dict[int, int] = {}
        self._rng = rng or random.Random()

    @property
    def current(self) -> Profile:
        return self._profile  # one attribute read: atomic

    def set(self, profile: Profile) -> None:
        with self._lock:
            self._profile = profile
            self._fired = {}

    def fire(self, service: str, calling_ae: str, host: str) -> tuple[Profile, list[FaultRule]]:
        """The profile and the rules that fire for this message, counted as fired."""
        profile = self._profile
        if not profile.faults:  # the usual case: no lock on the hot path
            return profile, []
        with self._lock:
            profile = self._profile
            fired = []
            for index, rule in enumerate(profile.faults):
                if not rule.matches(service, calling_ae, host):
                    continue
                done = self._fired.get(index, 0)
                if rule.count is not None and done >= rule.count:
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                self._fired[index] = done + 1
                fired.append(rule)
            return profile, fired


def parse_value(action: str, value: str) -> dict[str, Any]:
    """The rule fields of an action parameter as typed in the window.

    ``status``: ``0x0111`` or ``0110/A710`` (status / Error ID, hexadecimal);
    ``delay``: milliseconds; ``reject``: ``result/source/reason`` (default
    ``1/1/1``); ``abort``: ``before`` or ``after``; ``drop-report``: nothing.
    Raises ValueError with a message fit for the user.
    """
    value = value.strip()
    if action == STATUS:
        code, _, error_id = value.partition("/")
        fields: dict[str, Any] = {"status": _hex(code, "status")}
        if error_id:
            fields["error_id"] = _hex(error_id, "Error ID")
        return fields
    if action == DELAY:
        if not value.isdigit():
            raise ValueError(f"delay must be a number of milliseconds, not {value!r}")
        return {"delay_ms": int(value)}
    if action == REJECT:
        parts = value.split("/") if value else ["1", "1", "1"]
        if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"reject must be result/source/reason, e.g. 1/1/7, not {value!r}")
        result, source, reason = (int(p) for p in parts)
        return {"reject": (result, source, reason)}
    if action == ABORT:
        return {"abort": value or BEFORE}
    if action == DROP_REPORT:
        return {}
    raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")


def _hex(text: str, what: str) -> int:
    try:
        return int(text.strip().removeprefix("0x").removeprefix("0X"), 16)
    except ValueError:
        raise ValueError(f"{what} must be hexadecimal, e.g. 0110, not {text!r}") from None


class RuleError(ValueError):
    """A fault rule that cannot be used; ``key`` is the field to blame."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def check_rule(rule: FaultRule) -> None:
    """Raise :class:`RuleError` naming what is wrong with ``rule``."""
    if rule.service not in SERVICES:
        raise RuleError(
            "service", f"unknown service {rule.service!r}; expected one of {', '.join(SERVICES)}"
        )
    if rule.action not in ACTIONS:
        raise RuleError(
            "action", f"unknown action {rule.action!r}; expected one of {', '.join(ACTIONS)}"
        )
    if rule.service not in ACTION_SERVICES[rule.action]:
        allowed = ", ".join(s for s in SERVICES if s in ACTION_SERVICES[rule.action])
        raise RuleError("action", f"{rule.action} applies to {allowed}, not {rule.service}")
    if not 0 <= rule.status <= 0xFFFF or rule.status in UNFORCEABLE:
        raise RuleError("status", f"cannot force status {rule.status:#06x}")
    if rule.error_id is not None and not 0 <= rule.error_id <= 0xFFFF:
        raise RuleError("error_id", f"Error ID {rule.error_id:#x} out of range 0-FFFF")
    if not 0 <= rule.delay_ms <= MAX_DELAY_MS:
        raise RuleError("delay_ms", f"delay {rule.delay_ms} ms out of range 0-{MAX_DELAY_MS}")
    result, source, reason = rule.reject
    if result not in (1, 2) or reason not in REJECT_REASONS.get(source, ()):
        raise RuleError(
            "reason",
            f"invalid rejection {result}/{source}/{reason}: result 1 or 2, source 1 (reasons "
            "1, 2, 3, 7), 2 (1, 2) or 3 (1, 2)",
        )
    if rule.abort not in (BEFORE, AFTER):
        raise RuleError("abort", f"abort must be {BEFORE!r} or {AFTER!r}, not {rule.abort!r}")
    if rule.service == "association" and rule.action == ABORT and rule.abort == AFTER:
        raise RuleError("abort", "an association is aborted when requested, not after")
    if not 0.0 < rule.probability <= 1.0:
        raise RuleError("probability", f"probability must be in (0, 1], not {rule.probability}")
    if rule.count is not None and rule.count < 1:
        raise RuleError("count", f"count must be at least 1, not {rule.count}")


def simple_rule(service: str, calling_ae: str, action: str, value: str) -> FaultRule:
    """A rule from the four columns of the window's table; ValueError when invalid."""
    rule = FaultRule(
        service=service, action=action, calling_ae=calling_ae.strip(), **parse_value(action, value)
    )
    check_rule(rule)
    return rule


def parse_profile(text: str, path: Path) -> Profile:
    """A profile from TOML text; errors name ``path`` and the line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    top = _Reader(path, text, data, "", ("", 1))
    mode = top.get("mode", str, DEFAULT_MODE)
    if mode not in MODES:
        raise top.fail("mode", f"expected one of {', '.join(MODES)}")
    unknown = set(data) - {"mode", "faults"}
    if unknown:
        raise _unknown(path, text, sorted(unknown)[0], ("", 1), "")
    raw_rules = data.get("faults", [])
    if not isinstance(raw_rules, list):
        raise ConfigError(f"{path}: faults must be an array of tables ([[faults]])")
    rules = [_rule(path, text, raw, index) for index, raw in enumerate(raw_rules, start=1)]
    return Profile(mode=mode, faults=tuple(rules), source=str(path))


_RULE_KEYS = {
    "service": str,
    "action": str,
    "calling_ae": str,
    "host": str,
    "status": int,
    "error_comment": str,
    "error_id": int,
    "delay_ms": int,
    "result": int,
    "source": int,
    "reason": int,
    "abort": str,
    "probability": (int, float),
    "count": int,
}


def _rule(path: Path, text: str, raw: dict[str, Any], index: int) -> FaultRule:
    where = f"faults[{index}]."
    reader = _Reader(path, text, raw, where, ("faults", index))
    for key in raw:
        if key not in _RULE_KEYS:
            raise _unknown(path, text, key, ("faults", index), where)
    fields: dict[str, Any] = {}
    for key, kind in _RULE_KEYS.items():
        if key in raw and key not in ("result", "source", "reason"):
            value = raw[key]
            kinds = kind if isinstance(kind, tuple) else (kind,)
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise reader.fail(key, f"expected {kinds[0].__name__}, got {value!r}")
            fields[key] = value
    for key in ("service", "action"):
        if key not in fields:
            raise reader.fail(key, "every fault needs a " + key)
    default = FaultRule.reject
    fields["reject"] = tuple(
        reader.get(key, int, default[n]) for n, key in enumerate(("result", "source", "reason"))
    )
    if "probability" in fields:
        fields["probability"] = float(fields["probability"])
    rule = FaultRule(**fields)
    try:
        check_rule(rule)
    except RuleError as exc:
        key = (
            exc.key
            if exc.key in raw
            else next(k for k in ("result", "source", "action") if k in raw)
        )
        raise reader.fail(key, str(exc)) from None
    return rule


def _unknown(path: Path, text: str, key: str, section: tuple[str, int], where: str) -> ConfigError:
    line = _line_of(text, key, *section)
    at = f", line {line}" if line else ""
    return ConfigError(f"{path}{at}: {where}{key}: unknown key")


def load_profile(path: Path) -> Profile:
    """A profile from a file; ConfigError (file and line) when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such profile file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_profile(text, path)


def describe(profile: Profile) -> Iterable[str]:
    """One line per rule, for the log when a profile becomes active."""
    return [describe_rule(rule) for rule in profile.faults]


def describe_rule(rule: FaultRule) -> str:
    """Everything about a rule on one line (the window's table shows only part of it)."""
    who = rule.calling_ae or "*"
    if rule.host:
        who += f"@{rule.host}"
    extra = f" x{rule.count}" if rule.count else ""
    extra += f" p={rule.probability:g}" if rule.probability < 1 else ""
    return f"{rule.service} from {who}: {rule.describe()}{extra}"
