"""Certificates for TLS tests: a lab CA, node certificates, a wrong CA and an expired one.

Made with the same code as ``mppsconsole tls init`` (net/certificates.py), plus the
bad cases no one would ask ``tls init`` for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from mppsconsole.core.settings import Node, TlsSettings
from mppsconsole.net.certificates import Issued, make_ca, make_node, write_pair

NAMES = ["localhost", "127.0.0.1"]


@dataclasses.dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


@dataclasses.dataclass(frozen=True)
class Lab:
    """Files in one folder: ``ca``, ``server``, ``client`` (both from ``ca``), ``stranger``
    (from another CA, ``other_ca``), ``expired`` (from ``ca``, expired yesterday),
    ``misnamed`` (from ``ca``, naming only pacs.example)."""

    ca: Path
    other_ca: Path
    server: Pair
    client: Pair
    stranger: Pair
    expired: Pair
    misnamed: Pair

    def server_tls(
        self, *, require_client_cert: bool = False, server: Pair | None = None
    ) -> TlsSettings:
        pair = server or self.server
        return TlsSettings(str(pair.cert), str(pair.key), str(self.ca), require_client_cert)

    def client_tls(self, pair: Pair | None = None, *, ca: Path | None = None) -> TlsSettings:
        ca_path = str(ca or self.ca)
        if pair is None:
            return TlsSettings(ca=ca_path)
        return TlsSettings(str(pair.cert), str(pair.key), ca_path)

    def node(self, port: int, tls: TlsSettings | None, ae_title: str = "MPPSCONSOLE") -> Node:
        return Node("scp", ae_title, "127.0.0.1", port, tls=tls is not None, tls_files=tls)


def _write(folder: Path, name: str, issued: Issued) -> Pair:
    pair = Pair(folder / f"{name}.pem", folder / f"{name}-key.pem")
    write_pair(issued, pair.cert, pair.key)
    return pair


def make_lab(folder: Path) -> Lab:
    folder.mkdir(parents=True, exist_ok=True)
    ca, other = make_ca("Test CA"), make_ca("Some other CA")
    now = dt.datetime.now(dt.UTC)
    expired = make_node(
        ca,
        "expired node",
        NAMES,
        not_before=now - dt.timedelta(days=30),
        not_after=now - dt.timedelta(days=1),
    )
    ca_pair, other_pair = _write(folder, "ca", ca), _write(folder, "other-ca", other)
    return Lab(
        ca=ca_pair.cert,
        other_ca=other_pair.cert,
        server=_write(folder, "server", make_node(ca, "test SCP", NAMES)),
        client=_write(folder, "client", make_node(ca, "test SCU", NAMES)),
        stranger=_write(folder, "stranger", make_node(other, "stranger", NAMES)),
        expired=_write(folder, "expired", expired),
        misnamed=_write(folder, "misnamed", make_node(ca, "misnamed", ["pacs.example"])),
    )
