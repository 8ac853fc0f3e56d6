"""Settings: the local node, the remote nodes and behaviour switches, from TOML.

A broken file is a :class:`ConfigError` naming the file and the line, since a
technologist edits this file by hand and needs to find the mistake.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Any

from mppsconsole.core.access import SERVICES, AccessPolicy, AccessRule
from mppsconsole.core.errors import ConfigError
from mppsconsole.core.limits import LIMIT_FIELDS, Limits

DEFAULT_AE_TITLE = "MPPSCONSOLE"
DEFAULT_PORT = 11112
DEFAULT_CALLED_AE = "ANY-SCP"
#: The node name that means "this console's own SCP" (the out-of-the-box destination).
SELF_NODE = "self"
DESTINATIONS = ("worklist", "mpps", "storage", "commitment")
LANGUAGES = ("", "en", "zh_CN")
# \Z, not $: "$" also matches before a trailing newline, which no AE title may hold.
_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}\Z")
DURABILITY = ("full", "normal")
_UID_ROOT = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*\.?$")


@dataclasses.dataclass(frozen=True)
class Node:
    """A remote DICOM node the console talks to."""

    name: str
    ae_title: str
    host: str
    port: int
    tls: bool = False
    #: The certificate files to use when ``tls`` is set: the settings' ``[tls]`` table,
    #: attached by :meth:`Settings.node` (or the CLI's --tls-* flags); never written to TOML,
    #: and not part of the node's identity (a node is the same node whatever files we use).
    tls_files: TlsSettings | None = dataclasses.field(default=None, compare=False)


# --- TLS and access control (issue #6) ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TlsSettings:
    """The ``[tls]`` table: this console's certificate and the CA it trusts.

    With ``cert`` and ``key`` the SCP serves TLS only, on its port (no plain
    listener beside it: a department that sets up TLS wants no clear-text
    door left open; 2762 is DICOM's registered TLS port). The same pair is
    the client certificate for TLS nodes. ``ca`` verifies peers; without it
    the system's trust store verifies servers and client certificates are
    not asked for. Paths are absolute (relative ones in the file are taken
    relative to the file).
    """

    cert: str = ""
    key: str = ""
    ca: str = ""
    require_client_cert: bool = False
    #: Servers' certificates must name the host we connect to (SAN), as HTTPS does.
    check_hostname: bool = True

    @property
    def serves(self) -> bool:
        return bool(self.cert and self.key)


def _parse_tls(data: dict[str, Any], text: str, path: Path) -> TlsSettings | None:
    if "tls" not in data:
        return None
    if not isinstance(data["tls"], dict):
        raise ConfigError(f"{path}: [tls] must be a table")
    tls = _Reader(path, text, data["tls"], "tls.", ("tls", 1))
    files = {}
    for key in ("cert", "key", "ca"):
        value = tls.get(key, str, "")
        files[key] = str((path.parent / Path(value).expanduser()).absolute()) if value else ""
    if bool(files["cert"]) != bool(files["key"]):
        raise tls.fail("key" if files["cert"] else "cert", "cert and key go together")
    settings = TlsSettings(
        **files,
        require_client_cert=tls.get("require_client_cert", bool, False),
        check_hostname=tls.get("check_hostname", bool, True),
    )
    if settings.require_client_cert and not (settings.ca and settings.serves):
        raise tls.fail("require_client_cert", "needs cert, key and ca (the CA of the clients)")
    return settings


def _parse_access(data: dict[str, Any], text: str, path: Path) -> tuple[AccessRule, ...]:
    raw = data.get("access", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: access must be an array of tables ([[access]])")
    rules = []
    for index, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: access[{index}] must be a table")
        reader = _Reader(path, text, entry, f"access[{index}].", ("access", index))
        unknown = sorted(set(entry) - {"ae_title", "hosts", "services"})
        if unknown:
            raise reader.fail(unknown[0], "unknown key (ae_title, hosts, services)")
        if "ae_title" not in entry:
            raise reader.fail("ae_title", "every access entry needs an ae_title")
        ae_title = reader.ae_title("ae_title", "")
        lists = {}
        for key in ("hosts", "services"):
            values = reader.get(key, list, [])
            if not all(isinstance(v, str) for v in values):
                raise reader.fail(key, f"expected a list of strings, got {values!r}")
            lists[key] = tuple(values)
        bad = [s for s in lists["services"] if s not in SERVICES]
        if bad:
            raise reader.fail("services", f"unknown service {bad[0]!r} ({', '.join(SERVICES)})")
        try:
            rules.append(AccessRule(ae_title, lists["hosts"], lists["services"]))
        except ValueError as exc:
            raise reader.fail("hosts", str(exc)) from None
    return tuple(rules)


def _dump_security(settings: Settings) -> list[str]:
    lines = []
    if settings.tls is not None:
        lines.append("[tls]")
        for key in ("cert", "key", "ca", "require_client_cert", "check_hostname"):
            lines.append(f"{key} = {_toml_value(getattr(settings.tls, key))}")
        lines.append("")
    for rule in settings.access:
        lines.append("[[access]]")
        lines.append(f"ae_title = {_toml_value(rule.ae_title)}")
        if rule.hosts:
            lines.append(f"hosts = {_toml_value(rule.hosts)}")
        if rule.services:
            lines.append(f"services = {_toml_value(rule.services)}")
        lines.append("")
    return lines


# --- end of TLS and access control ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the user may configure; defaults work out of the box."""

    ae_title: str = DEFAULT_AE_TITLE
    port: int = DEFAULT_PORT
    bind_address: str = "0.0.0.0"
    allowed_calling_aets: tuple[str, ...] = ()
    hide_finished_worklist: bool = True
    durability: str = "normal"  # SQLite synchronous; why: store/db.py where it is set
    nodes: tuple[Node, ...] = ()
    station_name: str = "MPPSCONSOLE"
    location: str = ""
    operator: str = ""
    uid_root: str = ""
    language: str = ""  # "" follows the system locale; "en" or "zh_CN"
    storage_dir: str = ""  # received images; "" means DATA_DIR/images
    worklist_destination: str = SELF_NODE
    mpps_destination: str = SELF_NODE
    storage_destination: str = SELF_NODE
    commitment_destination: str = SELF_NODE
    limits: Limits = dataclasses.field(default_factory=Limits)  # [limits]: core/limits.py
    tls: TlsSettings | None = None
    #: ``[[access]]`` entries; see :meth:`access_policy` for ``allowed_calling_aets``.
    access: tuple[AccessRule, ...] = ()

    def node(self, name: str) -> Node | None:
        """A configured node; ``self`` is the console's own SCP unless configured otherwise.

        A TLS node comes with the ``[tls]`` files; ``self`` speaks TLS when our SCP does.
        """
        found = next((n for n in self.nodes if n.name == name), None)
        if found is None and name == SELF_NODE:
            wildcard = self.bind_address in ("0.0.0.0", "::")
            host = "127.0.0.1" if wildcard else self.bind_address
            serves_tls = self.tls is not None and self.tls.serves
            found = Node(SELF_NODE, self.ae_title, host, self.port, tls=serves_tls)
        if found is not None and found.tls and found.tls_files is None:
            found = dataclasses.replace(found, tls_files=self.tls or TlsSettings())
        return found

    def access_policy(self) -> AccessPolicy:
        """``[[access]]`` plus the older ``allowed_calling_aets`` (every service, any host)."""
        legacy = [AccessRule(ae) for ae in self.allowed_calling_aets]
        return AccessPolicy([*self.access, *legacy])

    def node_for_ae(self, ae_title: str) -> Node | None:
        found = next((n for n in self.nodes if n.ae_title == ae_title), None)
        return self.node(found.name) if found is not None else None


def valid_ae_title(value: str) -> bool:
    """An AE title of the default repertoire, 1-16 characters, not all spaces."""
    return bool(_AE_TITLE.match(value)) and bool(value.strip())


_HEADER = re.compile(r"^[ \t]*\[\[?[ \t]*([^\]\n]*?)[ \t]*\]\]?[ \t]*(?:#.*)?$", re.MULTILINE)


def _line_of(text: str, key: str, table: str, occurrence: int = 1) -> int | None:
    """Line of ``key`` in the ``occurrence``-th ``[table]``/``[[table]]`` section.

    The same key (``port``, ``name``) appears in several tables, so the search
    stays inside the section being read; a key missing from it points at the
    section header. Without a header (dotted keys, inline tables) the first
    ``key =`` of the file is the best guess. Leading blanks are spaces and tabs
    only: any whitespace would let a match start on a blank line above the key.
    """
    key_at = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=", re.MULTILINE)
    headers = list(_HEADER.finditer(text))
    own = [h for h in headers if h.group(1) == table]
    if len(own) >= occurrence:
        header = own[occurrence - 1]
        end = next((h.start() for h in headers if h.start() > header.start()), len(text))
        match = key_at.search(text, header.end(), end)
        start = match.start() if match else header.start()
    else:
        match = key_at.search(text)
        if match is None:
            return None
        start = match.start()
    return text.count("\n", 0, start) + 1


class _Reader:
    """Typed access to one table of the file, with errors that point at the line."""

    def __init__(
        self,
        path: Path,
        text: str,
        table: dict[str, Any],
        where: str,
        section: tuple[str, int],
    ) -> None:
        self.path, self.text, self.table, self.where = path, text, table, where
        self.section = section  # (table name, occurrence) to find the line in

    def fail(self, key: str, message: str) -> ConfigError:
        line = _line_of(self.text, key, *self.section)
        at = f", line {line}" if line else ""
        return ConfigError(f"{self.path}{at}: {self.where}{key}: {message}")

    def get(self, key: str, kind: type, default: Any) -> Any:
        if key not in self.table:
            return default
        value = self.table[key]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            raise self.fail(key, f"expected {kind.__name__}, got {value!r}")
        return value

    def ae_title(self, key: str, default: str) -> str:
        value = self.get(key, str, default)
        if not valid_ae_title(value):
            raise self.fail(key, f"invalid AE title {value!r} (1-16 characters, no backslash)")
        return str(value)

    def port(self, key: str, default: int) -> int:
        value = self.get(key, int, default)
        if not 0 <= value <= 65535:
            raise self.fail(key, f"port {value} out of range 0-65535")
        return int(value)


def _parse_limits(path: Path, text: str, data: dict[str, Any]) -> Limits:
    """The ``[limits]`` table: whole numbers, each at least its lowest allowed value."""
    limits = _Reader(path, text, data.get("limits", {}), "limits.", ("limits", 1))
    if not isinstance(limits.table, dict):
        raise ConfigError(f"{path}: [limits] must be a table")
    values: dict[str, int] = {}
    for key, lowest in LIMIT_FIELDS:
        value = limits.get(key, int, getattr(Limits, key))
        if value < lowest:
            raise limits.fail(key, f"must be at least {lowest}, got {value}")
        values[key] = value
    return Limits(**values)


def parse_settings(text: str, path: Path) -> Settings:
    """Settings from TOML text; ``path`` is only used to name the file in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    local = _Reader(path, text, data.get("local", {}), "local.", ("local", 1))
    if not isinstance(local.table, dict):
        raise ConfigError(f"{path}: [local] must be a table")
    bind = local.get("bind_address", str, Settings.bind_address)
    try:
        ipaddress.ip_address(bind)
    except ValueError:
        raise local.fail("bind_address", f"not an IP address: {bind!r}") from None
    allowed = local.get("allowed_calling_aets", list, [])
    for ae in allowed:
        if not isinstance(ae, str) or not _AE_TITLE.match(ae):
            raise local.fail("allowed_calling_aets", f"invalid AE title {ae!r}")
    durability = local.get("durability", str, Settings.durability)
    if durability not in DURABILITY:
        raise local.fail("durability", f"expected one of {', '.join(DURABILITY)}")
    nodes = []
    raw_nodes = data.get("nodes", [])
    if not isinstance(raw_nodes, list):
        raise ConfigError(f"{path}: nodes must be an array of tables ([[nodes]])")
    for index, raw in enumerate(raw_nodes, start=1):
        node = _Reader(path, text, raw, f"nodes[{index}].", ("nodes", index))
        name = node.get("name", str, "")
        if not name:
            raise node.fail("name", "every node needs a name")
        nodes.append(
            Node(
                name=name,
                ae_title=node.ae_title("ae_title", DEFAULT_CALLED_AE),
                host=node.get("host", str, "127.0.0.1"),
                port=node.port("port", DEFAULT_PORT),
                tls=node.get("tls", bool, False),
            )
        )
    modality = _Reader(path, text, data.get("modality", {}), "modality.", ("modality", 1))
    if not isinstance(modality.table, dict):
        raise ConfigError(f"{path}: [modality] must be a table")
    uid_root = modality.get("uid_root", str, "")
    if uid_root and not _UID_ROOT.match(uid_root):
        raise modality.fail("uid_root", f"invalid UID root {uid_root!r} (digits and dots, ≤ 40)")
    destinations = _Reader(
        path, text, data.get("destinations", {}), "destinations.", ("destinations", 1)
    )
    if not isinstance(destinations.table, dict):
        raise ConfigError(f"{path}: [destinations] must be a table")
    names = {n.name for n in nodes} | {SELF_NODE}
    chosen = {}
    for kind in DESTINATIONS:
        name = destinations.get(kind, str, SELF_NODE)
        if name not in names:
            raise destinations.fail(kind, f"no node named {name!r} (see [[nodes]])")
        chosen[f"{kind}_destination"] = name
    language = local.get("language", str, "")
    if language not in LANGUAGES:
        raise local.fail("language", f"expected one of {', '.join(repr(x) for x in LANGUAGES)}")
    return Settings(
        tls=_parse_tls(data, text, path),
        access=_parse_access(data, text, path),
        storage_dir=local.get("storage_dir", str, ""),
        language=language,
        **chosen,
        station_name=modality.get("station_name", str, Settings.station_name)[:16],
        location=modality.get("location", str, ""),
        operator=modality.get("operator", str, ""),
        uid_root=uid_root,
        ae_title=local.ae_title("ae_title", DEFAULT_AE_TITLE),
        port=local.port("port", DEFAULT_PORT),
        bind_address=bind,
        allowed_calling_aets=tuple(allowed),
        hide_finished_worklist=local.get("hide_finished_worklist", bool, True),
        durability=durability,
        nodes=tuple(nodes),
        limits=_parse_limits(path, text, data),
    )


def load_settings(path: Path, *, must_exist: bool = False) -> Settings:
    """Settings from ``path``; defaults when it does not exist and need not."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(f"{path}: no such configuration file") from None
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_settings(text, path)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def dump_settings(settings: Settings) -> str:
    """TOML text that :func:`parse_settings` reads back to the same settings."""
    local = {
        "ae_title": settings.ae_title,
        "port": settings.port,
        "bind_address": settings.bind_address,
        "allowed_calling_aets": settings.allowed_calling_aets,
        "hide_finished_worklist": settings.hide_finished_worklist,
        "durability": settings.durability,
        "language": settings.language,
        "storage_dir": settings.storage_dir,
    }
    modality = {
        "station_name": settings.station_name,
        "location": settings.location,
        "operator": settings.operator,
        "uid_root": settings.uid_root,
    }
    destinations = {kind: getattr(settings, f"{kind}_destination") for kind in DESTINATIONS}
    limits = {key: getattr(settings.limits, key) for key, _ in LIMIT_FIELDS}
    lines = ["# MPPS Console settings", ""]
    for table, values in (
        ("local", local),
        ("modality", modality),
        ("destinations", destinations),
        ("limits", limits),
    ):
        lines.append(f"[{table}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        lines.append("")
    for node in settings.nodes:
        lines.append("[[nodes]]")
        for key in ("name", "ae_title", "host", "port", "tls"):
            lines.append(f"{key} = {_toml_value(getattr(node, key))}")
        lines.append("")
    lines.extend(_dump_security(settings))
    return "\n".join(lines)


def save_settings(settings: Settings, path: Path) -> None:
    """Write atomically, so a crash never leaves a half-written settings file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(dump_settings(settings), encoding="utf-8")
    tmp.replace(path)
